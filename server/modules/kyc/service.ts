import { type SQL, and, count, desc, eq, gt, inArray, isNull, lte, ne, sql } from "drizzle-orm";

import { createBatcher, perDatabase } from "../../batching.js";
import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { accountsOfSessions } from "../identity/sql.js";
import { kycAttempts, kycIdentities, registryBindings } from "./tables.js";
import { AppError } from "../../errors.js";
import { type KycProvider, KycProviderUnavailable } from "../../providers/kyc/types.js";
import { type Sealer, hmacHex } from "../../security/crypto.js";
import { appendAudit } from "../audit/service.js";
import type { WalletService } from "../wallets/service.js";
import { ageOn, isValidName, maskIdNumber, maskName, normaliseName, parseIdNumber } from "./id-number.js";

/**
 * Real-name verification. The PII vault lives here: names and ID numbers
 * are encrypted (AES-256-GCM, key id in each value), the identity
 * commitment is HMAC-SHA256(pepper, normalised ID number), and only masked
 * forms leave this module, except to the person themselves in a data export.
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
  /** The rule `verifiedCommitments` applies, as SQL over a `kyc_identities` row (for statements that join it). */
  verifiedCondition(): SQL;
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

/** The commitment written on chain: HMAC-SHA256 of the normalised ID number under the platform's pepper. */
export function identityCommitment(pepper: string, normalisedIdNumber: string): string {
  return `0x${hmacHex(pepper, `cn-resident-id:${normalisedIdNumber}`)}`;
}

const REVERIFY_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

export function createKycService(deps: KycDependencies): KycService {
  const context = (field: string, userId: number) => `kyc.${field}:${userId}`;

  /** A `kyc_identities` row that verifies its account now: not purged, not expired. */
  const verifiedCondition = (): SQL =>
    sql`(${kycIdentities.purgedAt} is null and ${kycIdentities.expiresAt} > ${deps.clock().toISOString()}::timestamptz)`;

  /** The commitments of the verified identities of the accounts `who` selects. */
  async function verifiedAmong(db: Db, who: SQL): Promise<Map<number, string>> {
    const rows = await db
      .select({ userId: kycIdentities.userId, commitment: kycIdentities.commitment })
      .from(kycIdentities)
      .where(and(who, verifiedCondition()));
    return new Map(rows.map((row) => [row.userId, row.commitment]));
  }
  // Whether one account is verified is the same rule as `verifiedCommitments` (one SQL condition); a crowd's
  // checks (the verified-collector middleware on every reservation) share one query per batch.
  const verifiedLookups = perDatabase((db: Db) =>
    createBatcher(
      async (userIds: number[]) => {
        const found = await verifiedAmong(
          db,
          sql`${kycIdentities.userId} = any(${sql.param([...new Set(userIds)])}::bigint[])`,
        );
        return userIds.map((userId) => ({ ok: true as const, value: found.has(userId) }));
      },
      { maxBatch: 500, maxInFlight: 4 },
    ),
  );

  async function readIdentity(db: Db, userId: number) {
    const [row] = await db.select().from(kycIdentities).where(eq(kycIdentities.userId, userId));
    return row;
  }

  async function status(db: Db, userId: number): Promise<KycStatus> {
    const row = await readIdentity(db, userId);
    if (row === undefined || row.purgedAt !== null) {
      const [latest] = await db
        .select({ reason: kycAttempts.reason })
        .from(kycAttempts)
        .where(eq(kycAttempts.userId, userId))
        .orderBy(desc(kycAttempts.id))
        .limit(1);
      return latest?.reason === "kyc.underage"
        ? { state: "unverified", refusedAsUnderage: true }
        : { state: "unverified" };
    }
    const address = await deps.wallets.addressOf(db, userId);
    const [binding] = await db
      .select({ status: registryBindings.status })
      .from(registryBindings)
      .where(and(eq(registryBindings.userId, userId), eq(registryBindings.status, "confirmed")))
      .limit(1);
    return {
      state: row.expiresAt > deps.clock() ? "verified" : "expired",
      nameMasked: row.nameMasked,
      idNumberMasked: row.idNumberMasked,
      level: row.level,
      verifiedAt: row.verifiedAt,
      expiresAt: row.expiresAt,
      ...(address === null ? {} : { address }),
      onChain: binding !== undefined,
    };
  }

  async function recordAttempt(
    db: Db,
    userId: number,
    outcome: "verified" | "mismatch" | "unavailable" | "rejected",
    reason = "",
  ) {
    await db.insert(kycAttempts).values({ userId, outcome, reason, createdAt: deps.clock() });
  }

  /** Asks the provider, recording the outcome (never the identity) either way. */
  async function askProvider(db: Db, userId: number, name: string, idNumber: string) {
    try {
      const verdict = await deps.provider.verify({ name, idNumber });
      if (verdict.outcome === "mismatch") {
        await recordAttempt(db, userId, "mismatch");
        throw new AppError("kyc.nameMismatch");
      }
      return verdict;
    } catch (error) {
      if (error instanceof KycProviderUnavailable) {
        await recordAttempt(db, userId, "unavailable");
        throw new AppError("kyc.providerUnavailable");
      }
      throw error;
    }
  }

  return {
    status,

    commitmentFor: (idNumber) => identityCommitment(deps.identityPepper, idNumber.trim().toUpperCase()),

    async submit(db, userId, input) {
      const now = deps.clock();
      // Each answer tells whether a name fits an ID number or an ID number is taken: a bounded oracle only.
      const [refused] = await db
        .select({ n: count() })
        .from(kycAttempts)
        .where(
          and(
            eq(kycAttempts.userId, userId),
            inArray(kycAttempts.outcome, ["mismatch", "rejected"]),
            gt(kycAttempts.createdAt, new Date(now.getTime() - 86_400_000)),
          ),
        );
      if ((refused?.n ?? 0) >= deps.refusedAttemptsPerDay) {
        throw new AppError("auth.rateLimited", { retryAfterSeconds: 86_400 });
      }
      const name = normaliseName(input.name);
      if (!isValidName(name)) throw new AppError("kyc.name.invalid");
      const parsed = parseIdNumber(input.idNumber, now);
      if (!parsed.ok) {
        await recordAttempt(db, userId, "rejected", parsed.code);
        throw new AppError(parsed.code);
      }
      const { normalised, birthDate } = parsed.value;
      if (ageOn(birthDate, now) < deps.minAge) {
        await recordAttempt(db, userId, "rejected", "kyc.underage");
        throw new AppError("kyc.underage", { minAge: deps.minAge });
      }

      const existing = await readIdentity(db, userId);
      if (existing !== undefined && existing.purgedAt === null && existing.expiresAt > now) {
        throw new AppError("kyc.alreadyVerified");
      }
      const commitment = identityCommitment(deps.identityPepper, normalised);
      const [holder] = await db
        .select({ userId: kycIdentities.userId })
        .from(kycIdentities)
        .where(and(eq(kycIdentities.commitment, commitment), ne(kycIdentities.userId, userId)));
      if (holder !== undefined) {
        await recordAttempt(db, userId, "rejected", "kyc.identityInUse");
        throw new AppError("kyc.identityInUse");
      }

      const verdict = await askProvider(db, userId, name, normalised);
      const expiresAt = new Date(now.getTime() + deps.validityDays * DAY_MS);
      await db
        .transaction(async (tx) => {
          const values = {
            nameCipher: deps.sealer.seal(name, context("name", userId)),
            idNumberCipher: deps.sealer.seal(normalised, context("idNumber", userId)),
            nameMasked: maskName(name),
            idNumberMasked: maskIdNumber(normalised),
            commitment,
            level: 1,
            provider: deps.provider.name,
            providerReference: verdict.reference,
            verifiedAt: now,
            expiresAt,
            retainUntil: null,
            purgedAt: null,
          };
          await tx
            .insert(kycIdentities)
            .values({ userId, ...values })
            .onConflictDoUpdate({ target: kycIdentities.userId, set: values });
          const address = await deps.wallets.ensureWallet(tx, userId);
          await tx
            .insert(registryBindings)
            .values({ userId, address, commitment, level: 1, expiresAt, nextAttemptAt: now });
          await tx.insert(kycAttempts).values({ userId, outcome: "verified" });
          await appendAudit(
            tx,
            {
              actor: { userId, role: "collector" },
              action: "kyc.verified",
              subject: { type: "user", id: userId },
              details: { provider: deps.provider.name, level: 1, expiresAt: expiresAt.toISOString() },
            },
            now,
          );
        })
        .catch((error: unknown) => {
          // Another account verified the same identity at the same moment.
          if (violatedUniqueConstraint(error) === "kyc_identities_commitment_key")
            throw new AppError("kyc.identityInUse");
          throw error;
        });
      return status(db, userId);
    },

    async reverify(db, userId) {
      const now = deps.clock();
      const row = await readIdentity(db, userId);
      if (row === undefined || row.purgedAt !== null || row.nameCipher === null || row.idNumberCipher === null) {
        throw new AppError("kyc.notVerified");
      }
      if (row.expiresAt.getTime() - now.getTime() > REVERIFY_WINDOW_DAYS * DAY_MS) {
        throw new AppError("kyc.reverifyTooEarly", { windowDays: REVERIFY_WINDOW_DAYS });
      }
      const name = deps.sealer.open(row.nameCipher, context("name", userId));
      const idNumber = deps.sealer.open(row.idNumberCipher, context("idNumber", userId));
      const verdict = await askProvider(db, userId, name, idNumber);
      const expiresAt = new Date(now.getTime() + deps.validityDays * DAY_MS);
      await db.transaction(async (tx) => {
        await tx
          .update(kycIdentities)
          .set({ verifiedAt: now, expiresAt, providerReference: verdict.reference })
          .where(eq(kycIdentities.userId, userId));
        const address = await deps.wallets.ensureWallet(tx, userId);
        await tx
          .insert(registryBindings)
          .values({ userId, address, commitment: row.commitment, level: row.level, expiresAt, nextAttemptAt: now });
        await tx.insert(kycAttempts).values({ userId, outcome: "verified", reason: "reverify" });
        await appendAudit(
          tx,
          {
            actor: { userId, role: "collector" },
            action: "kyc.reverified",
            subject: { type: "user", id: userId },
            details: { expiresAt: expiresAt.toISOString() },
          },
          now,
        );
      });
      return status(db, userId);
    },

    async acceptAttestation(db, userId, { commitment, issuer, level, expiresAt }) {
      const now = deps.clock();
      const existing = await readIdentity(db, userId);
      if (existing !== undefined && existing.purgedAt === null && existing.expiresAt > now) {
        throw new AppError("kyc.alreadyVerified");
      }
      const values = {
        ...{ nameCipher: null, idNumberCipher: null, nameMasked: "", idNumberMasked: "", commitment, level },
        ...{ provider: `credential:${issuer}`, providerReference: "", verifiedAt: now, expiresAt },
        ...{ retainUntil: null, purgedAt: null },
      };
      await db
        .transaction(async (tx) => {
          await tx
            .insert(kycIdentities)
            .values({ userId, ...values })
            .onConflictDoUpdate({ target: kycIdentities.userId, set: values });
          const address = await deps.wallets.ensureWallet(tx, userId);
          await tx
            .insert(registryBindings)
            .values({ userId, address, commitment, level, expiresAt, nextAttemptAt: now });
          await tx.insert(kycAttempts).values({ userId, outcome: "verified", reason: "credential" });
          await appendAudit(
            tx,
            {
              actor: { userId, role: "collector" },
              action: "kyc.verified",
              subject: { type: "user", id: userId },
              details: { provider: "credential", issuer, level, expiresAt: expiresAt.toISOString() },
            },
            now,
          );
        })
        .catch((error: unknown) => {
          if (violatedUniqueConstraint(error) === "kyc_identities_commitment_key")
            throw new AppError("kyc.identityInUse");
          throw error;
        });
      return status(db, userId);
    },

    isVerified: (db, userId) => verifiedLookups(db)(userId),

    verifiedCondition,

    async verifiedCommitments(db, userIds) {
      if (userIds.length === 0) return new Map();
      return verifiedAmong(db, sql`${kycIdentities.userId} = any(${sql.param([...new Set(userIds)])}::bigint[])`);
    },

    async verifiedCommitmentsOfSessions(db, sessionIds) {
      if (sessionIds.length === 0) return new Map();
      return verifiedAmong(db, sql`${kycIdentities.userId} in ${accountsOfSessions(sessionIds)}`);
    },

    async commitmentOf(db, userId) {
      const row = await readIdentity(db, userId);
      return row === undefined || row.purgedAt !== null ? null : row.commitment;
    },

    async exportIdentity(db, userId) {
      const row = await readIdentity(db, userId);
      if (row === undefined || row.nameCipher === null || row.idNumberCipher === null) return null;
      return {
        name: deps.sealer.open(row.nameCipher, context("name", userId)),
        idNumber: deps.sealer.open(row.idNumberCipher, context("idNumber", userId)),
      };
    },

    async scheduleErasure(db, userId) {
      const now = deps.clock();
      const retainUntil = new Date(now);
      retainUntil.setUTCFullYear(retainUntil.getUTCFullYear() + deps.retentionYears);
      await db.update(kycIdentities).set({ retainUntil }).where(eq(kycIdentities.userId, userId));
    },

    async purgeExpired(db) {
      const now = deps.clock();
      const due = await db
        .select({ userId: kycIdentities.userId })
        .from(kycIdentities)
        .where(and(lte(kycIdentities.retainUntil, now), isNull(kycIdentities.purgedAt)));
      let purged = 0;
      for (const row of due) {
        await db.transaction(async (tx) => {
          await tx
            .update(kycIdentities)
            .set({ nameCipher: null, idNumberCipher: null, purgedAt: now })
            .where(eq(kycIdentities.userId, row.userId));
          await appendAudit(
            tx,
            {
              actor: { userId: null, role: "system" },
              action: "kyc.pii.purged",
              subject: { type: "user", id: row.userId },
            },
            now,
          );
        });
        purged++;
      }
      return purged;
    },
  };
}
