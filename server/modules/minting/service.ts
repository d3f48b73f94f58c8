import { type SQL, eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { mintJobs } from "./tables.js";

/**
 * The mint outbox. Paid orders and airdrops enqueue one job per order in
 * their own transaction; the delivery pipeline (worker, batching,
 * reconciliation with the chain) drains it.
 */
export interface MintRequest {
  orderId: number;
  collectionId: number;
  recipient: string;
  quantity: number;
}

export function createMintingService() {
  return {
    async enqueue(db: Db, request: MintRequest) {
      await db.insert(mintJobs).values(request).onConflictDoNothing();
    },

    /** How the mint jobs of the orders `orderIds` (a subquery of order ids, e.g. an airdrop's) stand, by status. */
    async progressOf(db: Db, orderIds: SQL): Promise<Record<string, number>> {
      const rows = await db
        .select({ status: mintJobs.status, n: sql<number>`count(*)::int` })
        .from(mintJobs)
        .where(sql`${mintJobs.orderId} in ${orderIds}`)
        .groupBy(mintJobs.status);
      return Object.fromEntries(rows.map((row) => [row.status, row.n]));
    },

    /** An order's mint job, locked for the caller's transaction (undefined when the order has none). */
    async lockJobOf(tx: Db, orderId: number) {
      const [job] = await tx
        .select({ id: mintJobs.id, status: mintJobs.status })
        .from(mintJobs)
        .where(eq(mintJobs.orderId, orderId))
        .for("update");
      return job;
    },

    /** Takes a job that has not left for the chain out of the pipeline, for an operator. */
    async park(tx: Db, jobId: number, reason: string) {
      await tx.update(mintJobs).set({ status: "parked", parkedReason: reason }).where(eq(mintJobs.id, jobId));
    },
  };
}

export type MintingService = ReturnType<typeof createMintingService>;
