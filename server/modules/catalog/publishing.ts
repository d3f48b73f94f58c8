import { and, eq } from "drizzle-orm";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { type Actor, type CatalogDependencies, type CollectionRow, auditCatalog } from "./context.js";
import { issuerCollection } from "./reads.js";
import { collections } from "./tables.js";

type PublishingDependencies = Pick<CatalogDependencies, "chain" | "custody" | "clock" | "publicOrigin" | "onPublished">;

/** Creates the collection's contract through the factory; answers the receipt and the new contract's address. */
async function createContract(deps: PublishingDependencies, chain: Chain, issuerId: number, row: CollectionRow) {
  let receipt;
  try {
    receipt = await chain.send("publisher", ({ factory }, overrides) =>
      factory.createCollection(
        {
          name: row.title,
          symbol: `SZ${row.id}`,
          issuer: deps.custody.issuerAddress(issuerId),
          maxSupply: row.editionSize,
          lockDays: row.lockDays,
          regiftDays: row.regiftDays,
          contentHash: `0x${row.mediaSha256}`,
          baseURI: `${deps.publicOrigin}/meta/${row.id}/`,
        },
        overrides,
      ),
    );
  } catch {
    throw new AppError("collection.chainUnavailable");
  }
  const created = receipt.logs
    .map((log) => {
      try {
        return chain.factory.interface.parseLog(log);
      } catch {
        return null;
      }
    })
    .find((parsed) => parsed?.name === "CollectionCreated");
  return { receipt, contractAddress: String(created!.args.collection) };
}

/** A new sale window chosen at publication, when review took so long that the approved start has passed. */
export interface SaleWindow {
  saleStartsAt: Date;
  saleEndsAt: Date;
}

/** The window the collection will sell in: the approved one, or a new one; never one that starts in the past. */
function windowAtPublication(row: CollectionRow, now: Date, window: SaleWindow | undefined): SaleWindow {
  if (window === undefined) {
    if (row.saleStartsAt < now)
      throw new AppError("collection.startPassed", { startsAt: row.saleStartsAt.toISOString() });
    return { saleStartsAt: row.saleStartsAt, saleEndsAt: row.saleEndsAt };
  }
  if (window.saleStartsAt < now) throw new AppError("collection.startInPast");
  if (window.saleEndsAt <= window.saleStartsAt) throw new AppError("collection.endBeforeStart");
  return window;
}

/** Publication of approved collections on chain. */
export function createPublishing(deps: PublishingDependencies) {
  return {
    /**
     * Creates the collection's contract through the factory (the platform's
     * publisher account) with the media hash, then marks it published. A start that passed during review is
     * refused: the staff choose a new window (`window`), checked here before anything reaches the chain.
     */
    async publish(db: Db, actor: Actor, issuerId: number, collectionId: number, window?: SaleWindow) {
      const row = await issuerCollection(db, issuerId, collectionId);
      if (row.status !== "approved") throw new AppError("collection.wrongState", { status: row.status });
      const sale = windowAtPublication(row, deps.clock(), window);
      if (deps.chain === null) throw new AppError("collection.chainUnavailable");
      const { receipt, contractAddress } = await createContract(deps, deps.chain, issuerId, row);
      return db.transaction(async (tx) => {
        const [updated] = await tx
          .update(collections)
          .set({ status: "published", ...sale, contractAddress, publishTxHash: receipt.hash, updatedAt: deps.clock() })
          .where(and(eq(collections.id, collectionId), eq(collections.status, "approved")))
          .returning();
        if (updated === undefined) throw new AppError("collection.wrongState");
        await deps.onPublished?.(tx, updated);
        await auditCatalog(
          tx,
          deps.clock,
          actor,
          "collection.published",
          { type: "collection", id: collectionId },
          window === undefined
            ? { contractAddress, txHash: receipt.hash }
            : {
                contractAddress,
                txHash: receipt.hash,
                saleStartsAt: sale.saleStartsAt.toISOString(),
                saleEndsAt: sale.saleEndsAt.toISOString(),
              },
        );
        return updated;
      });
    },
  };
}
