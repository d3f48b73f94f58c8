import { and, count, desc, eq, gt, inArray, ne } from "drizzle-orm";

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

/** Asks the provider, recording the outcome (never the identity) either way. */
async function askProvider(deps: KycDependencies, db: Db, userId: number, name: string, idNumber: string) {
  try {
    const verdict = await deps.provider.verify({ name, idNumber });
    if (verdict.outcome === "mismatch") {
      await recordAttempt(deps, db, userId, "mismatch");
      throw new AppError("kyc.nameMismatch");
    }
    return verdict;
  } catch (error) {
    if (error instanceof KycProviderUnavailable) {
      await recordAttempt(deps, db, userId, "unavailable");
      throw new AppError("kyc.providerUnavailable");
    }
    throw error;
  }
}

/** The checks before the provider is asked: the refusal budget, the name, the ID number, the age, the identity's holder. */
async function admissible(deps: KycDependencies, db: Db, userId: number, input: { name: string; idNumber: string }) {
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
    await recordAttempt(deps, db, userId, "rejected", parsed.code);
    throw new AppError(parsed.code);
  }
  const { normalised, birthDate } = parsed.value;
  if (ageOn(birthDate, now) < deps.minAge) {
    await recordAttempt(deps, db, userId, "rejected", "kyc.underage");
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
    await recordAttempt(deps, db, userId, "rejected", "kyc.identityInUse");
    throw new AppError("kyc.identityInUse");
  }
  return { now, name, normalised, commitment };
}

export async function submit(deps: KycDependencies, db: Db, userId: number, input: { name: string; idNumber: string }) {
  const { now, name, normalised, commitment } = await admissible(deps, db, userId, input);
  const verdict = await askProvider(deps, db, userId, name, normalised);
  const expiresAt = new Date(now.getTime() + deps.validityDays * DAY_MS);
  await db
    .transaction(async (tx) => {
      const values = {
        nameCipher: deps.sealer.seal(name, sealContext("name", userId)),
        idNumberCipher: deps.sealer.seal(normalised, sealContext("idNumber", userId)),
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
      if (violatedUniqueConstraint(error) === "kyc_identities_commitment_key") throw new AppError("kyc.identityInUse");
      throw error;
    });
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
  return statusOf(deps, db, userId);
}
