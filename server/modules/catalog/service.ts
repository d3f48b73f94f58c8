import type { CatalogDependencies } from "./context.js";
import { createDraftWorkflow } from "./drafts.js";
import { createIssuers } from "./issuers.js";
import { createMediaLibrary } from "./media-library.js";
import { createPublishing } from "./publishing.js";
import { collectionReads } from "./reads.js";
import { createTakedownRecords } from "./takedown.js";

/**
 * Issuers (museums, brands) and their collections: applications reviewed
 * by operators, drafts with artwork, content review, and publication on
 * chain through the factory. Only published collections are ever shown to
 * collectors; everything an operator or issuer decides is audited.
 */

export type { Actor, CatalogDependencies, CollectionRow, DraftInput } from "./context.js";
export { type SaleState, saleStateOf } from "./rules.js";

export function createCatalogService(deps: CatalogDependencies) {
  return {
    // issuers: applications and their review (issuers.ts)
    ...createIssuers(deps),
    // artwork (media-library.ts)
    ...createMediaLibrary(deps),
    // drafts, submission and content review (drafts.ts)
    ...createDraftWorkflow(deps),
    // publication on chain (publishing.ts)
    ...createPublishing(deps),
    // takedowns (takedown.ts)
    ...createTakedownRecords(deps),
    // reading (reads.ts)
    ...collectionReads,
  };
}

export type CatalogService = ReturnType<typeof createCatalogService>;
