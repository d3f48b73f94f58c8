import { desc, eq, ne, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { kycAttempts, registryBindings } from "./tables.js";

/** What the KYC module tells operators and the metrics endpoint (account ids and codes, no personal data). */

/** Verifications that did not pass (mismatch, provider down, refused): account id, outcome, reason code, time. */
export function kycExceptions(db: Db, limit: number) {
  return db
    .select({
      userId: kycAttempts.userId,
      outcome: kycAttempts.outcome,
      reason: kycAttempts.reason,
      at: kycAttempts.createdAt,
    })
    .from(kycAttempts)
    .where(ne(kycAttempts.outcome, "verified"))
    .orderBy(desc(kycAttempts.id))
    .limit(limit);
}

/** Identity registry bindings waiting for the chain. */
export async function pendingBindingCount(db: Db): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(*)::int` })
    .from(registryBindings)
    .where(eq(registryBindings.status, "pending"));
  return row?.n ?? 0;
}
