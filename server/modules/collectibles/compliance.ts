import { and, eq, isNull } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import type { CollectiblesDependencies } from "./context.js";
import { tokens } from "./tables.js";

/** What compliance actions change in the index of tokens: a recovery's new holder, a takedown. */
export function createComplianceRecords(deps: Pick<CollectiblesDependencies, "clock">) {
  return {
    /** One token of the index (its holder, the order that bought it, whether it was taken down), or null. */
    async tokenRecord(db: Db, collectionId: number, tokenId: number) {
      const [row] = await db
        .select()
        .from(tokens)
        .where(and(eq(tokens.collectionId, collectionId), eq(tokens.tokenId, tokenId)));
      return row ?? null;
    },

    /** A forced transfer (recovery) landed: the token now belongs to `toUserId`, in the caller's transaction. */
    async recordRecovered(tx: Db, collectionId: number, tokenId: number, toUserId: number) {
      await tx
        .update(tokens)
        .set({ ownerUserId: toUserId, acquiredAt: deps.clock() })
        .where(and(eq(tokens.collectionId, collectionId), eq(tokens.tokenId, tokenId)));
    },

    /**
     * A takedown landed: the token (or, with `tokenId` null, every token of the collection) is marked taken
     * down, in the caller's transaction. Answers the tokens it marked, each with the order that bought it.
     */
    async recordTakenDown(
      tx: Db,
      collectionId: number,
      tokenId: number | null,
      takedown: { reasonCode: number; txHash: string | null },
    ) {
      return tx
        .update(tokens)
        .set({ takenDownAt: deps.clock(), takedownReasonCode: takedown.reasonCode, takedownTxHash: takedown.txHash })
        .where(
          and(
            eq(tokens.collectionId, collectionId),
            isNull(tokens.takenDownAt),
            ...(tokenId === null ? [] : [eq(tokens.tokenId, tokenId)]),
          ),
        )
        .returning({ tokenId: tokens.tokenId, ownerUserId: tokens.ownerUserId, orderId: tokens.orderId });
    },
  };
}
