import { and, eq, inArray } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { actedOn } from "../audit/service.js";
import { type Actor, type CatalogDependencies, type DraftInput, auditCatalog } from "./context.js";
import { issuerCollection } from "./reads.js";
import { collections, media } from "./tables.js";

/** The audit actions that make someone a collection's author. */
const AUTHORING = ["collection.drafted", "collection.edited", "collection.submitted"] as const;

type DraftDependencies = Pick<CatalogDependencies, "clock" | "minLockDays" | "minRegiftDays">;

/** The lock terms, sale window and limit of a draft, and its artwork being the issuer's own. */
async function checkTerms(deps: DraftDependencies, db: Db, issuerId: number, input: DraftInput) {
  // Each rule has its own code, so the studio can say which one failed and where.
  const limits = { minLockDays: deps.minLockDays, minRegiftDays: deps.minRegiftDays };
  if (input.lockDays < deps.minLockDays) throw new AppError("collection.lockBelowFloor", limits);
  if (input.regiftDays < input.lockDays) throw new AppError("collection.regiftBelowLock", limits);
  if (input.regiftDays < deps.minRegiftDays) throw new AppError("collection.regiftBelowFloor", limits);
  if (input.saleStartsAt < deps.clock()) throw new AppError("collection.startInPast");
  if (input.saleEndsAt <= input.saleStartsAt) throw new AppError("collection.endBeforeStart");
  if (input.perPersonLimit > input.editionSize) throw new AppError("collection.limitAboveEdition");
  const [file] = await db.select().from(media).where(eq(media.sha256, input.mediaSha256));
  if (file === undefined || file.issuerId !== issuerId) throw new AppError("media.unknown");
}

/** Collections before publication: issuers' drafts, their submission, and operators' content review. */
export function createDraftWorkflow(deps: DraftDependencies) {
  return {
    async createDraft(db: Db, actor: Actor, issuerId: number, input: DraftInput) {
      await checkTerms(deps, db, issuerId, input);
      return db.transaction(async (tx) => {
        const [row] = await tx
          .insert(collections)
          .values({ issuerId, ...input })
          .returning();
        await auditCatalog(tx, deps.clock, actor, "collection.drafted", { type: "collection", id: row!.id });
        return row!;
      });
    },

    async updateDraft(db: Db, actor: Actor, issuerId: number, collectionId: number, input: DraftInput) {
      const row = await issuerCollection(db, issuerId, collectionId);
      if (row.status !== "draft" && row.status !== "rejected")
        throw new AppError("collection.wrongState", { status: row.status });
      await checkTerms(deps, db, issuerId, input);
      return db.transaction(async (tx) => {
        const [updated] = await tx
          .update(collections)
          .set({ ...input, status: "draft", rejectionReason: null, updatedAt: deps.clock() })
          .where(and(eq(collections.id, collectionId), inArray(collections.status, ["draft", "rejected"])))
          .returning();
        if (updated === undefined) throw new AppError("collection.wrongState");
        await auditCatalog(tx, deps.clock, actor, "collection.edited", { type: "collection", id: collectionId });
        return updated;
      });
    },

    async submit(db: Db, actor: Actor, issuerId: number, collectionId: number) {
      const row = await issuerCollection(db, issuerId, collectionId);
      // A draft saved yesterday for this morning's start goes to review with a start already gone: the staff
      // pick a new start first (the editor shows the message next to the field).
      if (row.status === "draft" && row.saleStartsAt < deps.clock()) throw new AppError("collection.startInPast");
      return db.transaction(async (tx) => {
        const [updated] = await tx
          .update(collections)
          .set({ status: "submitted", updatedAt: deps.clock() })
          .where(and(eq(collections.id, collectionId), eq(collections.status, "draft")))
          .returning();
        if (updated === undefined) throw new AppError("collection.wrongState");
        await auditCatalog(tx, deps.clock, actor, "collection.submitted", { type: "collection", id: collectionId });
        return updated;
      });
    },

    async review(
      db: Db,
      operator: Actor & { issuerId?: number | null },
      input: { collectionId: number; approve: boolean; reason?: string | undefined },
    ) {
      if (!input.approve && !input.reason?.trim()) throw new AppError("review.reasonRequired");
      return db.transaction(async (tx) => {
        // Four eyes: nobody reviews a collection of their own issuer, or one they drafted, edited or submitted.
        const [own] = await tx
          .select({ issuerId: collections.issuerId })
          .from(collections)
          .where(eq(collections.id, input.collectionId));
        if (
          own !== undefined &&
          ((operator.issuerId != null && operator.issuerId === own.issuerId) ||
            (await actedOn(tx, operator.id, { type: "collection", id: input.collectionId }, AUTHORING)))
        )
          throw new AppError("review.ownSubmission");
        const status = input.approve ? "approved" : "rejected";
        const [updated] = await tx
          .update(collections)
          .set({ status, rejectionReason: input.approve ? null : input.reason!.trim(), updatedAt: deps.clock() })
          .where(and(eq(collections.id, input.collectionId), eq(collections.status, "submitted")))
          .returning();
        if (updated === undefined) {
          const [exists] = await tx
            .select({ id: collections.id })
            .from(collections)
            .where(eq(collections.id, input.collectionId));
          throw new AppError(exists === undefined ? "collection.notFound" : "collection.wrongState");
        }
        await auditCatalog(
          tx,
          deps.clock,
          operator,
          `collection.${status}`,
          { type: "collection", id: input.collectionId },
          input.approve ? {} : { reason: input.reason },
        );
        return updated;
      });
    },
  };
}
