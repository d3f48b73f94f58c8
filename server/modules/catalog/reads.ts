import { and, asc, desc, eq, inArray } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import type { CollectionRow } from "./context.js";
import { collections, issuers, media } from "./tables.js";

/** The artwork's type and, for a still image, its size and the widths of its variants. */
const mediaImageColumns = {
  mediaType: media.mimeType,
  mediaWidth: media.width,
  mediaHeight: media.height,
  mediaVariantWidths: media.variantWidths,
};

/** Reading collections: an issuer's own, the review queue, and the published ones collectors see. */

/** One of issuer `issuerId`'s collections. */
export async function issuerCollection(db: Db, issuerId: number, collectionId: number): Promise<CollectionRow> {
  const [row] = await db
    .select()
    .from(collections)
    .where(and(eq(collections.id, collectionId), eq(collections.issuerId, issuerId)));
  // Another issuer's collection is "not found", never "forbidden": its existence is not disclosed.
  if (row === undefined) throw new AppError("collection.notFound");
  return row;
}

export const collectionReads = {
  /** Titles and issuer names of some collections (for operators' lists), by id. */
  async titlesOf(db: Db, collectionIds: readonly number[]) {
    const out = new Map<number, { title: string; issuerName: string }>();
    if (collectionIds.length === 0) return out;
    const rows = await db
      .select({ id: collections.id, title: collections.title, issuerName: issuers.name })
      .from(collections)
      .innerJoin(issuers, eq(issuers.id, collections.issuerId))
      .where(inArray(collections.id, [...new Set(collectionIds)]));
    for (const row of rows) out.set(row.id, { title: row.title, issuerName: row.issuerName });
    return out;
  },

  /** The contract of a published collection. */
  async contractOf(db: Db, collectionId: number): Promise<string> {
    const [row] = await db
      .select({ contractAddress: collections.contractAddress })
      .from(collections)
      .where(and(eq(collections.id, collectionId), eq(collections.status, "published")));
    if (row?.contractAddress == null) throw new AppError("collection.notFound");
    return row.contractAddress;
  },

  listForIssuer: (db: Db, issuerId: number) =>
    db.select().from(collections).where(eq(collections.issuerId, issuerId)).orderBy(desc(collections.id)),

  getForIssuer: issuerCollection,

  listForReview: (db: Db) =>
    db.select().from(collections).where(eq(collections.status, "submitted")).orderBy(asc(collections.updatedAt)),

  /** Published collections with their issuer's name, for collectors. */
  async listPublished(db: Db) {
    return db
      .select({ collection: collections, issuerName: issuers.name, ...mediaImageColumns })
      .from(collections)
      .innerJoin(issuers, eq(issuers.id, collections.issuerId))
      .innerJoin(media, eq(media.sha256, collections.mediaSha256))
      .where(eq(collections.status, "published"))
      .orderBy(asc(collections.saleStartsAt));
  },

  async getPublished(db: Db, collectionId: number) {
    const [row] = await db
      .select({ collection: collections, issuerName: issuers.name, ...mediaImageColumns })
      .from(collections)
      .innerJoin(issuers, eq(issuers.id, collections.issuerId))
      .innerJoin(media, eq(media.sha256, collections.mediaSha256))
      .where(and(eq(collections.id, collectionId), eq(collections.status, "published")));
    if (row === undefined) throw new AppError("collection.notFound");
    return row;
  },
};
