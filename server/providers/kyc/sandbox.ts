import { createHash } from "node:crypto";

import { type KycProvider, KycProviderUnavailable, type KycVerdict } from "./types.js";

/**
 * The development provider: every well-formed identity matches, except two
 * documented test names.
 * - name `王不符` → "name does not match the ID number";
 * - name `李宕机` → the provider is unavailable.
 */
export const SANDBOX_MISMATCH_NAME = "王不符";
export const SANDBOX_UNAVAILABLE_NAME = "李宕机";

export function createSandboxKycProvider(): KycProvider {
  return {
    name: "sandbox",
    async verify({ name, idNumber }): Promise<KycVerdict> {
      if (name === SANDBOX_UNAVAILABLE_NAME) throw new KycProviderUnavailable("sandbox simulated outage");
      // A reference that identifies the check without revealing who was checked.
      const reference = `sbx-${createHash("sha256").update(`${name}|${idNumber}|${Date.now()}`).digest("hex").slice(0, 16)}`;
      return { outcome: name === SANDBOX_MISMATCH_NAME ? "mismatch" : "match", reference };
    },
  };
}
