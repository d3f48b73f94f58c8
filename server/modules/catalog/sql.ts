import { eq } from "drizzle-orm";
import { QueryBuilder } from "drizzle-orm/pg-core";

import { collections, issuers, media } from "./tables.js";

/**
 * The catalog module's SQL for statements of other modules that must stay
 * one query: what they may see of a collection, as subqueries to join on by
 * collection id (`innerJoin(collectionCards, eq(collectionCards.collectionId, …))`).
 * The database folds them into the outer statement; the columns stay the
 * catalog's to name.
 */

const qb = new QueryBuilder();

/** Each collection's contract (null until it is published). */
export const collectionContracts = qb
  .select({ collectionId: collections.id, contractAddress: collections.contractAddress })
  .from(collections)
  .as("collection_contracts");

/** What a collector's list and certificates show of a collection: its card, issuer and artwork. */
export const collectionCards = qb
  .select({
    collectionId: collections.id,
    title: collections.title,
    creator: collections.creator,
    editionSize: collections.editionSize,
    mediaSha256: collections.mediaSha256,
    mediaType: media.mimeType,
    mediaWidth: media.width,
    mediaHeight: media.height,
    mediaVariantWidths: media.variantWidths,
    contractAddress: collections.contractAddress,
    issuerName: issuers.name,
  })
  .from(collections)
  .innerJoin(issuers, eq(issuers.id, collections.issuerId))
  .innerJoin(media, eq(media.sha256, collections.mediaSha256))
  .as("collection_cards");
