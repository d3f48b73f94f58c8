import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

import { Roles, collectionFunctionRoles, factoryFunctionRoles, registryFunctionRoles, selector } from "../roles.js";

/**
 * The platform's contracts on one chain: the AccessManager with every role
 * wired, the identity registry, the collection implementation and the factory.
 *
 * Parameters (all optional; accounts default to the deployer so a local chain
 * works with none):
 * - `kycOperator`, `compliance`, `publisher`, `platformAdmin`, `minter`: the
 *   server's accounts for each role;
 * - `maxAddressesPerIdentity` (3), `minLockDays` (180, the floor no
 *   collection can go below) and `minRegiftDays` (730, two years);
 * - `admin`: the account that holds AccessManager role 0 (the operator's, a multisig or an HSM-held
 *   account; the deployer by default); `AdminHandover` then renounces the deployer's role 0;
 * - `adminExecutionDelay` (seconds, default {@link DEFAULT_ADMIN_EXECUTION_DELAY}, two days): the
 *   brake on the most powerful actions. Once everything is wired, the AccessManager admin (the
 *   deployer) holds its role with this execution delay, so granting any role (admin, compliance,
 *   ...) and remapping who may call a function (`setTargetFunctionRole`, the factory's
 *   `setCollectionFunctionRole`: who may force-transfer or take down) must be scheduled with
 *   `schedule` and wait this long before `execute`. Use 0 on development chains and in tests only.
 */
/** The production default of `adminExecutionDelay`: two days. */
export const DEFAULT_ADMIN_EXECUTION_DELAY = 2n * 24n * 60n * 60n;

export default buildModule("Platform", (m) => {
  const deployer = m.getAccount(0);
  const kycOperator = m.getParameter("kycOperator", deployer);
  const compliance = m.getParameter("compliance", deployer);
  const publisher = m.getParameter("publisher", deployer);
  const platformAdmin = m.getParameter("platformAdmin", deployer);
  const minter = m.getParameter("minter", deployer);
  const maxAddressesPerIdentity = m.getParameter("maxAddressesPerIdentity", 3n);
  const minLockDays = m.getParameter("minLockDays", 180n);
  const minRegiftDays = m.getParameter("minRegiftDays", 730n);
  const adminExecutionDelay = m.getParameter("adminExecutionDelay", DEFAULT_ADMIN_EXECUTION_DELAY);
  const admin = m.getParameter("admin", deployer);

  const accessManager = m.contract("AccessManager", [deployer]);
  const identityRegistry = m.contract("IdentityRegistry", [accessManager, maxAddressesPerIdentity]);
  const collectionImplementation = m.contract("Collection", [identityRegistry]);
  const factory = m.contract("CollectionFactory", [
    accessManager,
    collectionImplementation,
    minLockDays,
    minRegiftDays,
    minter,
  ]);

  // Everything the admin wires before its brake is applied.
  const wiring = [];
  for (const [name, roleId] of Object.entries(Roles)) {
    if (roleId !== Roles.ADMIN) {
      wiring.push(m.call(accessManager, "labelRole", [roleId, name], { id: `label_${name}` }));
    }
  }

  for (const [role, signatures] of Object.entries(registryFunctionRoles)) {
    wiring.push(
      m.call(
        accessManager,
        "setTargetFunctionRole",
        [identityRegistry, signatures.map(selector), Roles[role as keyof typeof Roles]],
        { id: `registry_${role}` },
      ),
    );
  }
  for (const [role, signatures] of Object.entries(factoryFunctionRoles)) {
    wiring.push(
      m.call(
        accessManager,
        "setTargetFunctionRole",
        [factory, signatures.map(selector), Roles[role as keyof typeof Roles]],
        { id: `factory_${role}` },
      ),
    );
  }
  for (const [role, signatures] of Object.entries(collectionFunctionRoles)) {
    wiring.push(
      m.call(factory, "setCollectionFunctionRole", [signatures.map(selector), Roles[role as keyof typeof Roles]], {
        id: `collection_${role}`,
      }),
    );
  }

  const members = {
    KYC_OPERATOR: kycOperator,
    COMPLIANCE: compliance,
    PUBLISHER: publisher,
    PLATFORM_ADMIN: platformAdmin,
  };
  for (const [role, account] of Object.entries(members)) {
    wiring.push(
      m.call(accessManager, "grantRole", [Roles[role as keyof typeof Roles], account, 0], { id: `grant_${role}` }),
    );
  }

  // The brake, last: from here on every admin action of the admin account (the operator's; the deployer by
  // default) is scheduled and waits `adminExecutionDelay`. A deployer that is not the admin keeps its role 0
  // only until AdminHandover, run right after, renounces it.
  m.call(accessManager, "grantRole", [Roles.ADMIN, admin, adminExecutionDelay], {
    id: "brake_admin",
    after: wiring,
  });

  return { accessManager, identityRegistry, collectionImplementation, factory };
});
