import { and, asc, desc, eq } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { collectionCards, collectionContracts } from "../catalog/sql.js";
import { mintBlocksOf } from "../minting/reports.js";
import type { CollectiblesDependencies } from "./context.js";
import { tokens } from "./tables.js";

/** The index of minted tokens and who holds them. */
export function createHoldings(deps: Pick<CollectiblesDependencies, "clock">) {
  return {
    /** Called in the mint's transaction: the tokens of each job now belong to its buyer. */
    async recordMinted(
      tx: Db,
      minted: { collectionId: number; orderId: number; ownerUserId: number; firstTokenId: number; quantity: number }[],
      txHash: string | null,
    ) {
      const at = deps.clock();
      const rows = minted.flatMap((job) =>
        Array.from({ length: job.quantity }, (_, i) => ({
          collectionId: job.collectionId,
          tokenId: job.firstTokenId + i,
          ownerUserId: job.ownerUserId,
          orderId: job.orderId,
          mintTxHash: txHash,
          mintedAt: at,
          acquiredAt: at,
        })),
      );
      if (rows.length > 0) await tx.insert(tokens).values(rows).onConflictDoNothing();
    },

    /** Who holds one minted token now, or null when the collection has no such token. */
    async holderOf(db: Db, collectionId: number, tokenId: number): Promise<number | null> {
      const [row] = await db
        .select({ ownerUserId: tokens.ownerUserId })
        .from(tokens)
        .where(and(eq(tokens.collectionId, collectionId), eq(tokens.tokenId, tokenId)));
      return row?.ownerUserId ?? null;
    },

    async mine(db: Db, userId: number) {
      return db
        .select({
          collectionId: tokens.collectionId,
          tokenId: tokens.tokenId,
          title: collectionCards.title,
          issuerName: collectionCards.issuerName,
          editionSize: collectionCards.editionSize,
          mediaSha256: collectionCards.mediaSha256,
          mediaType: collectionCards.mediaType,
          mediaWidth: collectionCards.mediaWidth,
          mediaHeight: collectionCards.mediaHeight,
          mediaVariantWidths: collectionCards.mediaVariantWidths,
          contractAddress: collectionCards.contractAddress,
          acquiredAt: tokens.acquiredAt,
          takenDownAt: tokens.takenDownAt,
        })
        .from(tokens)
        .innerJoin(collectionCards, eq(collectionCards.collectionId, tokens.collectionId))
        .where(eq(tokens.ownerUserId, userId))
        .orderBy(desc(tokens.acquiredAt));
    },

    /** The tokens an order became, with the mint transaction and its block (the minting module's record). */
    async tokensOfOrder(db: Db, orderId: number) {
      const rows = await db
        .select({
          tokenId: tokens.tokenId,
          contractAddress: collectionContracts.contractAddress,
          txHash: tokens.mintTxHash,
        })
        .from(tokens)
        .innerJoin(collectionContracts, eq(collectionContracts.collectionId, tokens.collectionId))
        .where(eq(tokens.orderId, orderId))
        .orderBy(asc(tokens.tokenId));
      const blocks = await mintBlocksOf(
        db,
        rows.flatMap((row) => (row.txHash === null ? [] : [row.txHash])),
      );
      return rows.map((row) => ({
        ...row,
        blockNumber: row.txHash === null ? null : (blocks.get(row.txHash) ?? null),
      }));
    },
  };
}
