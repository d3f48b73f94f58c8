import { and, eq, isNull, lt, or } from "drizzle-orm";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { type Actor, type CatalogDependencies, type CollectionRow, auditCatalog } from "./context.js";
import { issuerCollection } from "./reads.js";
import { collections } from "./tables.js";

type PublishingDependencies = Pick<CatalogDependencies, "chain" | "custody" | "clock" | "publicOrigin" | "onPublished">;

/** A claim older than this is taken as abandoned (its process died) and may be resumed. */
export const PUBLISH_CLAIM_STALE_MS = 5 * 60_000;

/** The on-chain symbol of collection `id`: how a resumed publication recognises the contract already created. */
export const symbolOf = (collectionId: number) => `SZ${collectionId}`;

/** How many of the factory's newest collections a publication looks through for its own. */
const RESUME_SCAN = 100;

/**
 * The contract the factory already created for this collection, if any: among the factory's newest
 * collections, one of the issuer's address carrying the collection's symbol (a publication whose process
 * died after the factory call, or whose receipt never came back). Read from the factory's state, which,
 * unlike an event query, is never behind the latest block.
 */
async function existingContract(chain: Chain, issuerAddress: string, row: CollectionRow) {
  const count = Number(await chain.factory.collectionCount());
  for (let index = count - 1; index >= Math.max(0, count - RESUME_SCAN); index--) {
    const address = await chain.factory.collectionAt(index);
    const contract = chain.collection(address);
    if ((await contract.issuer()).toLowerCase() !== issuerAddress.toLowerCase()) continue;
    if ((await contract.symbol()) === symbolOf(row.id)) return { txHash: null, contractAddress: address };
  }
  return null;
}

/** Creates the collection's contract through the factory; answers the transaction and the new contract's address. */
async function createContract(deps: PublishingDependencies, chain: Chain, issuerId: number, row: CollectionRow) {
  const issuer = deps.custody.issuerAddress(issuerId);
  try {
    const found = await existingContract(chain, issuer, row);
    if (found !== null) return { ...found, resumed: true };
    const receipt = await chain.send("publisher", ({ factory }, overrides) =>
      factory.createCollection(
        {
          name: row.title,
          symbol: symbolOf(row.id),
          issuer,
          maxSupply: row.editionSize,
          lockDays: row.lockDays,
          regiftDays: row.regiftDays,
          contentHash: `0x${row.mediaSha256}`,
          baseURI: `${deps.publicOrigin}/meta/${row.id}/`,
        },
        overrides,
      ),
    );
    const created = receipt.logs
      .map((log) => {
        try {
          return chain.factory.interface.parseLog(log);
        } catch {
          return null;
        }
      })
      .find((parsed) => parsed?.name === "CollectionCreated");
    return { txHash: receipt.hash, contractAddress: String(created!.args.collection), resumed: false };
  } catch {
    throw new AppError("collection.chainUnavailable");
  }
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
  /**
   * Claims the publication in the database, with its audit entry, before the factory is called: of two
   * publications at once one claims, the other is refused. A claim whose process died is resumed after
   * {@link PUBLISH_CLAIM_STALE_MS}.
   */
  async function claim(db: Db, actor: Actor, issuerId: number, collectionId: number) {
    return db.transaction(async (tx) => {
      const now = deps.clock();
      const [claimed] = await tx
        .update(collections)
        .set({ publishClaimedAt: now })
        .where(
          and(
            eq(collections.id, collectionId),
            eq(collections.issuerId, issuerId),
            eq(collections.status, "approved"),
            or(
              isNull(collections.publishClaimedAt),
              lt(collections.publishClaimedAt, new Date(now.getTime() - PUBLISH_CLAIM_STALE_MS)),
            ),
          ),
        )
        .returning();
      if (claimed === undefined) {
        const row = await issuerCollection(tx, issuerId, collectionId);
        if (row.status === "approved") throw new AppError("collection.publishing");
        throw new AppError("collection.wrongState", { status: row.status });
      }
      await auditCatalog(tx, deps.clock, actor, "collection.publishRequested", {
        type: "collection",
        id: collectionId,
      });
      return claimed;
    });
  }

  return {
    /**
     * Creates the collection's contract through the factory (the platform's publisher account) with the
     * media hash, then marks it published. A start that passed during review is refused: the staff choose a
     * new window (`window`), checked here before anything reaches the chain. Record first: the claim is
     * committed before the chain is asked, and the factory is asked only when no contract of this collection
     * exists yet (idempotent on resume).
     */
    async publish(db: Db, actor: Actor, issuerId: number, collectionId: number, window?: SaleWindow) {
      const row = await issuerCollection(db, issuerId, collectionId);
      if (row.status !== "approved") throw new AppError("collection.wrongState", { status: row.status });
      const sale = windowAtPublication(row, deps.clock(), window);
      if (deps.chain === null) throw new AppError("collection.chainUnavailable");
      const claimed = await claim(db, actor, issuerId, collectionId);
      let created;
      try {
        created = await createContract(deps, deps.chain, issuerId, claimed);
      } catch (error) {
        // Nothing was created (the lookup ran first): the claim is released so the issuer may try again.
        await db
          .update(collections)
          .set({ publishClaimedAt: null })
          .where(and(eq(collections.id, collectionId), eq(collections.status, "approved")));
        throw error;
      }
      const { txHash, contractAddress, resumed } = created;
      return db.transaction(async (tx) => {
        const [updated] = await tx
          .update(collections)
          .set({ status: "published", ...sale, contractAddress, publishTxHash: txHash, updatedAt: deps.clock() })
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
            ? { contractAddress, txHash, resumed }
            : {
                contractAddress,
                txHash,
                resumed,
                saleStartsAt: sale.saleStartsAt.toISOString(),
                saleEndsAt: sale.saleEndsAt.toISOString(),
              },
        );
        return updated;
      });
    },
  };
}
