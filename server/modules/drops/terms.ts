import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import type { CatalogService } from "../catalog/service.js";

/** A published collection's terms as the drops module reads them: once per process, then from memory. */

export type CollectionRow = Awaited<ReturnType<CatalogService["getPublished"]>>["collection"];

export type TermsOf = ((db: Db, collectionId: number) => Promise<CollectionRow>) & {
  /** Drops the remembered row (this process learns of a takedown at once). */
  forget(collectionId: number): void;
  /** Whether the terms would come from memory (remembered, or being read already), not from the database. */
  remembers(collectionId: number): boolean;
};

/** How long a process remembers a collection's terms: other instances learn of a takedown within this. */
export const TERMS_TTL_MS = 10_000;

/**
 * A published collection's row, read once per {@link TERMS_TTL_MS} per process (the crowd's first attempts
 * share one read): a published collection's terms never change (catalog updates stop at "approved"); only a
 * takedown may end its sale, which this process learns at once and others within the TTL.
 */
export function createTermsCache(catalog: Pick<CatalogService, "getPublished">): TermsOf {
  const terms = new Map<number, { row: Promise<CollectionRow>; at: number }>();
  const fresh = (entry: { at: number } | undefined): entry is { row: Promise<CollectionRow>; at: number } =>
    entry !== undefined && Date.now() - entry.at <= TERMS_TTL_MS;
  const termsOf = (db: Db, collectionId: number) => {
    let entry = terms.get(collectionId);
    if (!fresh(entry)) {
      entry = { row: catalog.getPublished(db, collectionId).then(({ collection }) => collection), at: Date.now() };
      terms.set(collectionId, entry);
      const current = entry;
      // An unknown or unpublished collection is asked again next time.
      entry.row.catch(() => {
        if (terms.get(collectionId) === current) terms.delete(collectionId);
      });
    }
    return entry.row;
  };
  return Object.assign(termsOf, {
    forget: (collectionId: number) => void terms.delete(collectionId),
    remembers: (collectionId: number) => fresh(terms.get(collectionId)),
  });
}

/** Why `quantity` editions may not be reserved now under the collection's terms, or null when they may. */
export function refusalOfTerms(collection: CollectionRow, now: Date, quantity: number): AppError | null {
  if (collection.takenDownAt !== null) return new AppError("collection.takenDown");
  if (now < collection.saleStartsAt) {
    return new AppError("drop.notStarted", { startsAt: collection.saleStartsAt.toISOString() });
  }
  if (now >= collection.saleEndsAt) return new AppError("drop.ended");
  if (quantity > collection.perPersonLimit)
    return new AppError("drop.limitReached", { limit: collection.perPersonLimit });
  return null;
}
