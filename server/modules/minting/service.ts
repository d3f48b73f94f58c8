import { eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { orders } from "../drops/tables.js";
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

    /** How an airdrop's mint jobs stand, by status. */
    async progressOfAirdrop(db: Db, airdropId: number): Promise<Record<string, number>> {
      const rows = await db
        .select({ status: mintJobs.status, n: sql<number>`count(*)::int` })
        .from(mintJobs)
        .innerJoin(orders, eq(orders.id, mintJobs.orderId))
        .where(eq(orders.airdropId, airdropId))
        .groupBy(mintJobs.status);
      return Object.fromEntries(rows.map((row) => [row.status, row.n]));
    },
  };
}

export type MintingService = ReturnType<typeof createMintingService>;
