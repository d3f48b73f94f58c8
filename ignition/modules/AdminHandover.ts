import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { Roles } from "../roles.js";
import PlatformModule from "./Platform.js";

/**
 * Hands the AccessManager's admin role (role 0, which grants and revokes every
 * role) from the deployer to the platform operator's admin account: the
 * `Platform` module has granted role 0 to its `admin` parameter (under the
 * admin execution delay), and this module has the deployer renounce its own.
 *
 * Parameter `Platform.admin` (required here): the operator's account, a
 * multisig or an HSM-held account; never the deployer (renouncing would then
 * leave no admin) and never one of the server's role accounts. Deploy it with
 * the same deployment id and parameters file as `Platform`; Ignition sees that
 * Platform ran already and only sends the renouncement:
 *
 *   npx hardhat ignition deploy ignition/modules/AdminHandover.ts --network chain \
 *     --parameters ignition/parameters.json
 *
 * After it, the deployer can change nothing: a later change to Platform's
 * wiring is the admin's scheduled transaction, not a redeployment.
 */
export default buildModule("AdminHandover", (m) => {
  const { accessManager } = m.useModule(PlatformModule);
  const deployer = m.getAccount(0);
  m.call(accessManager, "renounceRole", [Roles.ADMIN, deployer], {
    id: "renounce_ADMIN_deployer",
    after: [PlatformModule],
  });
  return { accessManager };
});
