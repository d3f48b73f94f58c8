import { id } from "ethers";

/**
 * AccessManager role ids of the platform. Role 0 is the AccessManager's own
 * admin role; the deployment hands it to the platform's admin account.
 */
export const Roles = {
  ADMIN: 0n,
  KYC_OPERATOR: 1n,
  COMPLIANCE: 2n,
  PUBLISHER: 3n,
  PLATFORM_ADMIN: 4n,
} as const;

export type RoleName = keyof typeof Roles;

/** The 4-byte selector of a function signature such as `bind(address,bytes32,uint8,uint64)`. */
export function selector(signature: string): string {
  return id(signature).slice(0, 10);
}

/** Which role may call which function of the identity registry. */
export const registryFunctionRoles: Record<Exclude<RoleName, "ADMIN" | "PUBLISHER">, string[]> = {
  KYC_OPERATOR: [
    "bind(address,bytes32,uint8,uint64)",
    "bindBatch(address[],bytes32[],uint8,uint64)",
    "bindWithReason(address,bytes32,uint8,uint64,uint32)",
    "reverify(address,uint8,uint64)",
    "revoke(address,uint32)",
  ],
  COMPLIANCE: [
    "freeze(address,uint32)",
    "unfreeze(address,uint32)",
    "freezeIdentity(bytes32,uint32)",
    "unfreezeIdentity(bytes32,uint32)",
  ],
  PLATFORM_ADMIN: ["setOperatorAllowed(address,bool)"],
};

/** Which role may call which restricted function of every collection. */
export const collectionFunctionRoles: Record<"COMPLIANCE" | "PLATFORM_ADMIN", string[]> = {
  COMPLIANCE: [
    "freezeToken(uint256,uint32)",
    "unfreezeToken(uint256,uint32)",
    "pause(uint32)",
    "unpause(uint32)",
    "forceTransfer(uint256,address,uint32)",
    "forcedTransfer(address,address,uint256)",
    "setFrozenTokens(address,uint256,bool)",
    "takedown(uint256,uint32)",
    "takedownCollection(uint32)",
  ],
  PLATFORM_ADMIN: ["setMinter(address)", "setEditionContentHashes(uint256[],bytes32[])"],
};

/** Which role may call which function of the factory. */
export const factoryFunctionRoles: Record<"PUBLISHER" | "PLATFORM_ADMIN", string[]> = {
  PUBLISHER: ["createCollection((string,string,address,uint24,uint16,uint16,bytes32,string))"],
  PLATFORM_ADMIN: ["setDefaultMinter(address)"],
};
