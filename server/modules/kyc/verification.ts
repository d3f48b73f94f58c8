import { and, count, desc, eq, gt, inArray, ne, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { AppError } from "../../errors.js";
import { KycProviderUnavailable } from "../../providers/kyc/types.js";
import { appendAudit } from "../audit/service.js";
import { readIdentity } from "./lookups.js";
import { ageOn, isValidName, maskIdNumber, maskName, normaliseName, parseIdNumber } from "./id-number.js";
import type { KycDependencies, KycStatus } from "./service.js";
import { kycAttempts, kycIdentities, registryBindings } from "./tables.js";
import { hmacHex } from "../../security/crypto.js";

/** Verifying a person with the provider, renewing it, and what an account's verification stands at. */

const REVERIFY_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/** The commitment written on chain: HMAC-SHA256 of the normalised ID number under the platform's pepper. */
export function identityCommitment(pepper: string, normalisedIdNumber: string): string {
  return `0x${hmacHex(pepper, `cn-resident-id:${normalisedIdNumber}`)}`;
}

/** The sealing context of one PII field of one account. */
export const sealContext = (field: string, userId: number) => `kyc.${field}:${userId}`;

export async function statusOf(deps: KycDependencies, db: Db, userId: number): Promise<KycStatus> {
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
    renewableFrom: new Date(row.expiresAt.getTime() - REVERIFY_WINDOW_DAYS * DAY_MS),
    ...(address === null ? {} : { address }),
    onChain: binding !== undefined,
  };
}

async function recordAttempt(
  deps: KycDependencies,
  db: Db,
  userId: number,
  outcome: "verified" | "mismatch" | "unavailable" | "rejected",
  reason = "",
) {
  await db.insert(kycAttempts).values({ userId, outcome, reason, createdAt: deps.clock() });
}

/**
 * A refusal to answer once its attempt is committed: the transaction that decided it returns it (so the attempt
 * it recorded counts), and the caller throws it afterwards.
 */
type Refusal = { refusal: AppError };

async function refuse(
  deps: KycDependencies,
  db: Db,
  userId: number,
  attempt: { outcome: "mismatch" | "unavailable" | "rejected"; reason?: string },
  error: AppError,
): Promise<Refusal> {
  await recordAttempt(deps, db, userId, attempt.outcome, attempt.reason);
  return { refusal: error };
}

/**
 * Holds a transaction-scoped advisory lock on `key` (an account, an identity commitment) until the caller's
 * transaction ends: KYC submissions of one account, and of one identity, are decided one at a time across every
 * server instance, so check-then-write cannot interleave.
 */
async function lockFor(tx: Db, key: string) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`);
}

/** Asks the provider, recording the outcome (never the identity) either way. */
async function askProvider(deps: KycDependencies, db: Db, userId: number, name: string, idNumber: string) {
  try {
    const verdict = await deps.provider.verify({ name, idNumber });
    if (verdict.outcome === "mismatch")
      return refuse(deps, db, userId, { outcome: "mismatch" }, new AppError("kyc.nameMismatch"));
    return verdict;
  } catch (error) {
    if (error instanceof KycProviderUnavailable)
      return refuse(deps, db, userId, { outcome: "unavailable" }, new AppError("kyc.providerUnavailable"));
    throw error;
  }
}

/**
 * The checks before the provider is asked, in the account's locked transaction: the refusal budget (counted in
 * the transaction that decides, so simultaneous attempts cannot pass it together), the name, the ID number, the
 * age, the identity's holder (under the identity's lock).
 */
async function admissible(deps: KycDependencies, tx: Db, userId: number, input: { name: string; idNumber: string }) {
  const now = deps.clock();
  // Each answer tells whether a name fits an ID number or an ID number is taken: a bounded oracle only.
  const [refused] = await tx
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
  if (!parsed.ok)
    return refuse(deps, tx, userId, { outcome: "rejected", reason: parsed.code }, new AppError(parsed.code));
  const { normalised, birthDate } = parsed.value;
  if (ageOn(birthDate, now) < deps.minAge) {
    const error = new AppError("kyc.underage", { minAge: deps.minAge });
    return refuse(deps, tx, userId, { outcome: "rejected", reason: "kyc.underage" }, error);
  }

  const existing = await readIdentity(tx, userId);
  if (existing !== undefined && existing.purgedAt === null && existing.expiresAt > now) {
    throw new AppError("kyc.alreadyVerified");
  }
  const commitment = identityCommitment(deps.identityPepper, normalised);
  // After the account's lock (always in that order, so two locks never wait on each other in a cycle).
  await lockFor(tx, `kyc.identity:${commitment}`);
  const [holder] = await tx
    .select({ userId: kycIdentities.userId })
    .from(kycIdentities)
    .where(and(eq(kycIdentities.commitment, commitment), ne(kycIdentities.userId, userId)));
  if (holder !== undefined) {
    return refuse(
      deps,
      tx,
      userId,
      { outcome: "rejected", reason: "kyc.identityInUse" },
      new AppError("kyc.identityInUse"),
    );
  }
  return { now, name, normalised, commitment };
}

/** Records a verified identity, its wallet, its chain binding and its audit entry, in the caller's transaction. */
async function recordVerified(
  deps: KycDependencies,
  tx: Db,
  userId: number,
  identity: { now: Date; name: string; normalised: string; commitment: string; reference: string },
) {
  const { now, name, normalised, commitment } = identity;
  const expiresAt = new Date(now.getTime() + deps.validityDays * DAY_MS);
  const values = {
    nameCipher: deps.sealer.seal(name, sealContext("name", userId)),
    idNumberCipher: deps.sealer.seal(normalised, sealContext("idNumber", userId)),
    nameMasked: maskName(name),
    idNumberMasked: maskIdNumber(normalised),
    commitment,
    level: 1,
    provider: deps.provider.name,
    providerReference: identity.reference,
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
  await tx.insert(registryBindings).values({ userId, address, commitment, level: 1, expiresAt, nextAttemptAt: now });
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
}

/**
 * Verifies an account: one transaction under the account's advisory lock (and the identity's), from the refusal
 * budget to the identity's record, so one account's simultaneous submissions are decided one after another
 * (the first verifies, the others find it verified) and every refused attempt counts before the next is judged.
 * The provider is asked inside it: KYC is rare, and a provider call is bounded by its timeout.
 */
export async function submit(deps: KycDependencies, db: Db, userId: number, input: { name: string; idNumber: string }) {
  const refusal = await db
    .transaction(async (tx): Promise<Refusal | null> => {
      await lockFor(tx, `kyc.account:${userId}`);
      const admitted = await admissible(deps, tx, userId, input);
      if ("refusal" in admitted) return admitted;
      const verdict = await askProvider(deps, tx, userId, admitted.name, admitted.normalised);
      if ("refusal" in verdict) return verdict;
      await recordVerified(deps, tx, userId, { ...admitted, reference: verdict.reference });
      return null;
    })
    .catch((error: unknown) => {
      // Another account verified the same identity at the same moment.
      if (violatedUniqueConstraint(error) === "kyc_identities_commitment_key") throw new AppError("kyc.identityInUse");
      throw error;
    });
  if (refusal !== null) throw refusal.refusal;
  return statusOf(deps, db, userId);
}

export async function reverify(deps: KycDependencies, db: Db, userId: number) {
  const now = deps.clock();
  const row = await readIdentity(db, userId);
  if (row === undefined || row.purgedAt !== null || row.nameCipher === null || row.idNumberCipher === null) {
    throw new AppError("kyc.notVerified");
  }
  if (row.expiresAt.getTime() - now.getTime() > REVERIFY_WINDOW_DAYS * DAY_MS) {
    throw new AppError("kyc.reverifyTooEarly", { windowDays: REVERIFY_WINDOW_DAYS });
  }
  const name = deps.sealer.open(row.nameCipher, sealContext("name", userId));
  const idNumber = deps.sealer.open(row.idNumberCipher, sealContext("idNumber", userId));
  const verdict = await askProvider(deps, db, userId, name, idNumber);
  if ("refusal" in verdict) throw verdict.refusal;
  const expiresAt = new Date(now.getTime() + deps.validityDays * DAY_MS);
  await db.transaction(async (tx) => {
    await lockFor(tx, `kyc.account:${userId}`);
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
  return statusOf(deps, db, userId);
}
