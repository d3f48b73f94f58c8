import { and, eq, isNull } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import type { CatalogDependencies } from "./context.js";
import { collections } from "./tables.js";

/** A regulator's takedown of a collection, as the catalog records it (the burn itself is the compliance module's). */
export function createTakedownRecords(deps: Pick<CatalogDependencies, "clock">) {
  return {
    /**
     * Marks a published collection taken down, in the caller's transaction (the takedown landed on chain):
     * shown as taken down, its artwork hidden, no longer on sale. False when it was marked already.
     */
    async recordTakenDown(tx: Db, collectionId: number, takedown: { reasonCode: number; txHash: string | null }) {
      const updated = await tx
        .update(collections)
        .set({
          takenDownAt: deps.clock(),
          takedownReasonCode: takedown.reasonCode,
          takedownTxHash: takedown.txHash,
          updatedAt: deps.clock(),
        })
        .where(
          and(eq(collections.id, collectionId), eq(collections.status, "published"), isNull(collections.takenDownAt)),
        )
        .returning({ id: collections.id });
      return updated.length > 0;
    },
  };
}
