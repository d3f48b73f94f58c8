import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import type { CatalogService } from "../catalog/service.js";

/** A published collection's terms as the drops module reads them: once per process, then from memory. */

export type CollectionRow = Awaited<ReturnType<CatalogService["getPublished"]>>["collection"];

export type TermsOf = (db: Db, collectionId: number) => Promise<CollectionRow>;

/**
 * A published collection's row, read once per process (the crowd's first attempts share one read): a
 * published collection never changes state or terms again (catalog updates stop at "approved").
 */
export function createTermsCache(catalog: Pick<CatalogService, "getPublished">): TermsOf {
  const terms = new Map<number, Promise<CollectionRow>>();
  return (db, collectionId) => {
    let row = terms.get(collectionId);
    if (row === undefined) {
      row = catalog.getPublished(db, collectionId).then(({ collection }) => collection);
      terms.set(collectionId, row);
      // An unknown or unpublished collection is asked again next time.
      row.catch(() => terms.delete(collectionId));
    }
    return row;
  };
}

/** Why `quantity` editions may not be reserved now under the collection's terms, or null when they may. */
export function refusalOfTerms(collection: CollectionRow, now: Date, quantity: number): AppError | null {
  if (now < collection.saleStartsAt) {
    return new AppError("drop.notStarted", { startsAt: collection.saleStartsAt.toISOString() });
  }
  if (now >= collection.saleEndsAt) return new AppError("drop.ended");
  if (quantity > collection.perPersonLimit)
    return new AppError("drop.limitReached", { limit: collection.perPersonLimit });
  return null;
}
