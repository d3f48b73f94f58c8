import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import { readIdentity } from "./lookups.js";
import type { KycDependencies, KycStatus } from "./service.js";
import { kycIdentities, kycAttempts, registryBindings } from "./tables.js";
import { statusOf } from "./verification.js";

/**
 * Verifies an account on a trusted issuer's word (a credential the credentials module has checked): the same
 * per-person rules as an ID-number verification (one identity, one account, bound on chain), and no name or
 * ID number kept. `issuer` is the issuer's DID; `commitment` is derived from its stable subject id.
 */
export async function acceptAttestation(
  deps: KycDependencies,
  db: Db,
  userId: number,
  attestation: { commitment: string; issuer: string; level: number; expiresAt: Date },
): Promise<KycStatus> {
  const { commitment, issuer, level, expiresAt } = attestation;
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
      await tx.insert(registryBindings).values({ userId, address, commitment, level, expiresAt, nextAttemptAt: now });
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
      if (violatedUniqueConstraint(error) === "kyc_identities_commitment_key") throw new AppError("kyc.identityInUse");
      throw error;
    });
  return statusOf(deps, db, userId);
}
