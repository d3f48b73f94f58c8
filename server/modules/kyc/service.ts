import type { Db } from "../../db/client.js";
import type { KycProvider } from "../../providers/kyc/types.js";
import type { Sealer } from "../../security/crypto.js";
import type { WalletService } from "../wallets/service.js";
import { acceptAttestation } from "./attestation.js";
import { createVerifiedLookups } from "./lookups.js";
import { exportIdentity, purgeExpired, scheduleErasure } from "./privacy.js";
import { identityCommitment, reverify, statusOf, submit } from "./verification.js";

export { identityCommitment };

/**
 * Real-name verification. The PII vault lives here: names and ID numbers
 * are encrypted (AES-256-GCM, key id in each value), the identity
 * commitment is HMAC-SHA256(pepper, normalised ID number), and only masked
 * forms leave this module, except to the person themselves in a data export.
 * The real-name rule (a verification that is not purged and not expired) is
 * written once, in ./sql.ts: every lookup here and the statements of other
 * modules that join an account's identity (the flash-sale reservation) use it.
 */

export interface KycDependencies {
  provider: KycProvider;
  sealer: Sealer;
  identityPepper: string;
  wallets: WalletService;
  minAge: number;
  /** Refused attempts (mismatch, identity in use, bad ID number) one account may make per 24 hours. */
  refusedAttemptsPerDay: number;
  validityDays: number;
  retentionYears: number;
  clock: () => Date;
}

export interface KycStatus {
  state: "unverified" | "verified" | "expired";
  /** An unverified account whose latest attempt was refused because the person is under age. */
  refusedAsUnderage?: boolean;
  nameMasked?: string;
  idNumberMasked?: string;
  level?: number;
  verifiedAt?: Date;
  expiresAt?: Date;
  /** From when a renewal is accepted (the last 30 days before expiry, and after it). */
  renewableFrom?: Date;
  address?: string;
  /** True once the address is bound in the on-chain identity registry. */
  onChain?: boolean;
}

export interface KycService {
  submit(db: Db, userId: number, input: { name: string; idNumber: string }): Promise<KycStatus>;
  reverify(db: Db, userId: number): Promise<KycStatus>;
  status(db: Db, userId: number): Promise<KycStatus>;
  /** True when the account holds a verification that has not expired (adulthood was checked at verification). */
  isVerified(db: Db, userId: number): Promise<boolean>;
  /** The identity commitment of a verified account (for per-person limits), or null. */
  commitmentOf(db: Db, userId: number): Promise<string | null>;
  /** The identity commitments of those among `userIds` holding an unexpired verification, in one query. */
  verifiedCommitments(db: Db, userIds: readonly number[]): Promise<Map<number, string>>;
  /**
   * The same, by account, for the accounts behind session ids (whether each session is still valid is the
   * identity service's answer): read side by side with the sessions themselves.
   */
  verifiedCommitmentsOfSessions(db: Db, sessionIds: readonly string[]): Promise<Map<number, string>>;
  /** The person's own data, decrypted, for a data export. */
  exportIdentity(db: Db, userId: number): Promise<{ name: string; idNumber: string } | null>;
  /** Starts the retention clock of the account's PII (an erasure request). */
  scheduleErasure(db: Db, userId: number): Promise<void>;
  /** Deletes the ciphertexts whose retention period has ended. Returns how many identities were purged. */
  purgeExpired(db: Db): Promise<number>;
  commitmentFor(idNumber: string): string;
  /**
   * Verifies an account on a trusted issuer's word (a credential checked by the credentials module): the same
   * per-person rules (one identity, one account), no name or ID number kept. `issuer` is the issuer's DID.
   */
  acceptAttestation(
    db: Db,
    userId: number,
    attestation: { commitment: string; issuer: string; level: number; expiresAt: Date },
  ): Promise<KycStatus>;
}

export function createKycService(deps: KycDependencies): KycService {
  const lookups = createVerifiedLookups(deps.clock);
  return {
    status: (db, userId) => statusOf(deps, db, userId),
    commitmentFor: (idNumber) => identityCommitment(deps.identityPepper, idNumber.trim().toUpperCase()),
    submit: (db, userId, input) => submit(deps, db, userId, input),
    reverify: (db, userId) => reverify(deps, db, userId),
    ...lookups,
    exportIdentity: (db, userId) => exportIdentity(deps, db, userId),
    scheduleErasure: (db, userId) => scheduleErasure(deps, db, userId),
    purgeExpired: (db) => purgeExpired(deps, db),
    acceptAttestation: (db, userId, attestation) => acceptAttestation(deps, db, userId, attestation),
  };
}
