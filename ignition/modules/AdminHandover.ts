import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { Roles } from "../roles.js";
import PlatformModule from "./Platform.js";

/**
 * Hands the AccessManager's admin role (role 0, which grants and revokes every
 * role) from the deployer to the platform operator's admin account, once the
 * whole `Platform` module has run: `grantRole(0, admin, 0)`, then the
 * deployer's `renounceRole(0, deployer)`.
 *
 * Parameter `admin` (required): the operator's account, a multisig or an
 * HSM-held account; never the deployer (renouncing would then leave no admin)
 * and never one of the server's role accounts. Deploy it with the same
 * deployment id and parameters file as `Platform`; Ignition sees that Platform
 * ran already and only sends the two calls:
 *
 *   npx hardhat ignition deploy ignition/modules/AdminHandover.ts --network chain \
 *     --parameters ignition/parameters.json
 *
 * After it, the deployer can change nothing: a later change to Platform's
 * wiring is the admin's transaction, not a redeployment.
 */
export default buildModule("AdminHandover", (m) => {
  const { accessManager } = m.useModule(PlatformModule);
  const deployer = m.getAccount(0);
  const admin = m.getParameter<string>("admin");

  const grant = m.call(accessManager, "grantRole", [Roles.ADMIN, admin, 0], {
    id: "grant_ADMIN_to_operator",
    after: [PlatformModule],
  });
  m.call(accessManager, "renounceRole", [Roles.ADMIN, deployer], { id: "renounce_ADMIN_deployer", after: [grant] });

  return { accessManager };
});
