import type { Provider } from "ethers";

import { AccessManager__factory } from "../../types/ethers-contracts/index.js";
import { Roles } from "../../ignition/roles.js";
import type { KeyCustody, PlatformRole } from "../modules/wallets/custody.js";
import type { ChainAddresses } from "./client.js";

/** The AccessManager role each of the server's accounts must hold (the minter is the factory's own setting). */
const ROLE_OF: Partial<Record<PlatformRole, bigint>> = {
  kycOperator: Roles.KYC_OPERATOR,
  compliance: Roles.COMPLIANCE,
  publisher: Roles.PUBLISHER,
  platformAdmin: Roles.PLATFORM_ADMIN,
};

/**
 * What must hold on the chain before the server can do its work there, beyond
 * "it answers": the chain is the configured one, the deployment's contracts
 * exist at their addresses, and the server's accounts hold their roles. Each
 * problem is one line an operator can act on; none carries a key.
 */
export async function chainProblems(
  provider: Provider,
  addresses: ChainAddresses,
  custody: Pick<KeyCustody, "platformAddress">,
  expectedChainId: number | undefined,
): Promise<string[]> {
  const problems: string[] = [];
  const { chainId } = await provider.getNetwork();
  if (expectedChainId !== undefined && chainId !== BigInt(expectedChainId)) {
    problems.push(`chain: the chain's id is ${chainId}, CHAIN_ID says ${expectedChainId}`);
    return problems;
  }
  const missing: string[] = [];
  for (const [name, address] of Object.entries(addresses)) {
    if ((await provider.getCode(address)) === "0x") missing.push(`${name} (${address})`);
  }
  if (missing.length > 0) {
    problems.push(`chain: no contract at ${missing.join(", ")}: check CHAIN_DEPLOYMENT_FILE`);
    return problems;
  }
  const manager = AccessManager__factory.connect(addresses.accessManager, provider);
  for (const [role, roleId] of Object.entries(ROLE_OF) as [PlatformRole, bigint][]) {
    const account = custody.platformAddress(role);
    const [isMember] = await manager.hasRole(roleId, account);
    if (!isMember) problems.push(`chain: the ${role} account ${account} lacks its role: check the role keys`);
  }
  return problems;
}
