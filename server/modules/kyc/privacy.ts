import { and, eq, isNull, lte } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { appendAudit } from "../audit/service.js";
import { readIdentity } from "./lookups.js";
import type { KycDependencies } from "./service.js";
import { kycIdentities } from "./tables.js";
import { sealContext } from "./verification.js";

/** The person's rights over the PII vault: their data exported, erasure scheduled, and purged when retention ends. */

export async function exportIdentity(deps: KycDependencies, db: Db, userId: number) {
  const row = await readIdentity(db, userId);
  if (row === undefined || row.nameCipher === null || row.idNumberCipher === null) return null;
  return {
    name: deps.sealer.open(row.nameCipher, sealContext("name", userId)),
    idNumber: deps.sealer.open(row.idNumberCipher, sealContext("idNumber", userId)),
  };
}

export async function scheduleErasure(deps: KycDependencies, db: Db, userId: number) {
  const now = deps.clock();
  const retainUntil = new Date(now);
  retainUntil.setUTCFullYear(retainUntil.getUTCFullYear() + deps.retentionYears);
  await db.update(kycIdentities).set({ retainUntil }).where(eq(kycIdentities.userId, userId));
}

export async function purgeExpired(deps: KycDependencies, db: Db) {
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
}
