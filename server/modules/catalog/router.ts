import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import { authedProcedure, issuerProcedure, operatorProcedure, publicProcedure, router } from "../../trpc/init.js";
import { MIN_LOCK_DAYS } from "./rules.js";
import { type CollectionRow, saleStateOf } from "./service.js";

const creditCode = safe.text({ min: 18, max: 18, message: "issuer.creditCode.format", example: "91110000100000000A" });
const legalName = safe.text({ min: 2, max: 100, message: "issuer.name.invalid" });
const id = safe.id();
const text = (max: number, multiline = false) => safe.text({ max, multiline });
/** An airdrop list entry: a phone number or a collector id (blank entries are reported, not refused). */
const recipient = safe.text({ min: 0, max: 20, example: "13900000000" });

const draft = z
  .object({
    title: text(60),
    description: text(500, true),
    creator: text(60),
    story: text(5000, true),
    mediaSha256: safe.pattern(/^[0-9a-f]{64}$/, "media.unknown", "0".repeat(64)),
    editionSize: safe.int(1, 1_000_000),
    priceFen: safe.fen(100_000_000),
    saleStartsAt: safe.date(),
    saleEndsAt: safe.date(),
    perPersonLimit: safe.int(1, 100),
    lockDays: safe.int(MIN_LOCK_DAYS, 36_500),
    regiftDays: safe.int(MIN_LOCK_DAYS, 36_500),
  })
  .refine((value) => value.saleEndsAt > value.saleStartsAt, {
    message: "collection.endBeforeStart",
    path: ["saleEndsAt"],
  })
  .refine((value) => value.regiftDays >= value.lockDays, {
    message: "collection.regiftBelowLock",
    path: ["regiftDays"],
  })
  .refine((value) => value.perPersonLimit <= value.editionSize, {
    message: "collection.limitAboveEdition",
    path: ["perPersonLimit"],
  });

const decision = z
  .object({ approve: z.boolean(), reason: safe.text({ min: 0, max: 500 }).optional() })
  .refine((value) => value.approve || (value.reason !== undefined && value.reason.length > 0), {
    message: "review.reasonRequired",
    path: ["reason"],
  });

/** What collectors may see of a published collection. */
interface MediaImageRow {
  mediaType: string;
  mediaWidth: number | null;
  mediaHeight: number | null;
  mediaVariantWidths: number[] | null;
}

/** A still image's size and its variants' widths (`/media/<sha256>/<width>.avif|webp`), or null: show the original. */
export function mediaImageOf(row: Omit<MediaImageRow, "mediaType">) {
  if (row.mediaWidth === null || row.mediaHeight === null || row.mediaVariantWidths === null) return null;
  return { width: row.mediaWidth, height: row.mediaHeight, variantWidths: row.mediaVariantWidths };
}

function publicView(row: CollectionRow, issuerName: string, image: MediaImageRow, now: Date) {
  const takenDown = row.takenDownAt !== null;
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    creator: row.creator,
    story: row.story,
    issuerName,
    // A taken-down collection shows no artwork (a regulator ordered it removed).
    mediaUrl: takenDown ? null : `/media/${row.mediaSha256}`,
    mediaSha256: row.mediaSha256,
    mediaType: image.mediaType,
    mediaImage: takenDown ? null : mediaImageOf(image),
    editionSize: row.editionSize,
    priceFen: row.priceFen,
    saleStartsAt: row.saleStartsAt,
    saleEndsAt: row.saleEndsAt,
    saleState: takenDown ? ("ended" as const) : saleStateOf(row, now),
    takenDown,
    takenDownAt: row.takenDownAt,
    takedownReasonCode: row.takedownReasonCode,
    perPersonLimit: row.perPersonLimit,
    lockDays: row.lockDays,
    regiftDays: row.regiftDays,
    contractAddress: row.contractAddress,
  };
}

export const issuerRouter = router({
  /** An organisation applies to issue collections; the applying account becomes its staff on approval. */
  submitApplication: authedProcedure.input(z.object({ legalName, creditCode })).mutation(async ({ ctx, input }) => {
    const row = await ctx.platform.catalog.applyIssuer(ctx.platform.db, ctx.user, input);
    return { id: row.id, status: row.status };
  }),

  /** The caller's own newest application and its decision (a rejection with its reason), or null. */
  myApplication: authedProcedure.query(async ({ ctx }) => {
    const row = await ctx.platform.catalog.applicationOf(ctx.platform.db, ctx.user.id);
    if (row === null) return null;
    return {
      id: row.id,
      name: row.name,
      status: row.status,
      rejectionReason: row.rejectionReason,
      decidedAt: row.decidedAt,
    };
  }),

  mine: issuerProcedure.query(async ({ ctx }) => {
    const row = await ctx.platform.catalog.issuerOf(ctx.platform.db, ctx.issuerId);
    return { id: row.id, name: row.name, creditCode: row.creditCode, status: row.status };
  }),

  applications: operatorProcedure
    .input(z.object({ status: z.enum(["pending", "approved", "rejected"]).optional() }))
    .query(({ ctx, input }) => ctx.platform.catalog.listIssuers(ctx.platform.db, input.status)),

  review: operatorProcedure
    .input(z.intersection(z.object({ issuerId: id }), decision))
    .mutation(({ ctx, input }) => ctx.platform.catalog.reviewIssuer(ctx.platform.db, ctx.user, input)),
});

export const studioRouter = router({
  list: issuerProcedure.query(({ ctx }) => ctx.platform.catalog.listForIssuer(ctx.platform.db, ctx.issuerId)),

  get: issuerProcedure
    .input(z.object({ collectionId: id }))
    .query(({ ctx, input }) => ctx.platform.catalog.getForIssuer(ctx.platform.db, ctx.issuerId, input.collectionId)),

  createDraft: issuerProcedure
    .input(draft)
    .mutation(({ ctx, input }) => ctx.platform.catalog.createDraft(ctx.platform.db, ctx.user, ctx.issuerId, input)),

  updateDraft: issuerProcedure
    .input(z.object({ collectionId: id, draft }))
    .mutation(({ ctx, input }) =>
      ctx.platform.catalog.updateDraft(ctx.platform.db, ctx.user, ctx.issuerId, input.collectionId, input.draft),
    ),

  submit: issuerProcedure
    .input(z.object({ collectionId: id }))
    .mutation(({ ctx, input }) =>
      ctx.platform.catalog.submit(ctx.platform.db, ctx.user, ctx.issuerId, input.collectionId),
    ),

  /** Checks an airdrop list (phone numbers or collector ids) and reports every entry that cannot receive. */
  airdropCheck: issuerProcedure
    .input(z.object({ collectionId: id, recipients: z.array(recipient).min(1).max(10_000) }))
    .mutation(({ ctx, input }) =>
      ctx.platform.airdrops.check(ctx.platform.db, ctx.user.id, ctx.issuerId, input.collectionId, input.recipients),
    ),

  /** Gives one edition to each person on a clean list, free; each becomes a mint job. */
  airdrop: issuerProcedure
    .input(z.object({ collectionId: id, recipients: z.array(recipient).min(1).max(10_000) }))
    .mutation(({ ctx, input }) =>
      ctx.platform.airdrops.execute(ctx.platform.db, ctx.user, ctx.issuerId, input.collectionId, input.recipients),
    ),

  airdropProgress: issuerProcedure
    .input(z.object({ airdropId: id }))
    .query(({ ctx, input }) => ctx.platform.airdrops.progress(ctx.platform.db, ctx.issuerId, input.airdropId)),

  /** Sales of one of the issuer's collections: sold / reserved / available, revenue over time, mint status. */
  sales: issuerProcedure.input(z.object({ collectionId: id })).query(async ({ ctx, input }) => {
    await ctx.platform.catalog.getForIssuer(ctx.platform.db, ctx.issuerId, input.collectionId);
    return ctx.platform.drops.salesOf(ctx.platform.db, input.collectionId);
  }),

  /** Publishes an approved collection; `window` replaces a sale start that passed while it was in review. */
  publish: issuerProcedure
    .input(
      z.object({
        collectionId: id,
        window: z
          .object({ saleStartsAt: safe.date(), saleEndsAt: safe.date() })
          .refine((value) => value.saleEndsAt > value.saleStartsAt, {
            message: "collection.endBeforeStart",
            path: ["saleEndsAt"],
          })
          .optional(),
      }),
    )
    .mutation(({ ctx, input }) =>
      ctx.platform.catalog.publish(ctx.platform.db, ctx.user, ctx.issuerId, input.collectionId, input.window),
    ),
});

export const reviewRouter = router({
  queue: operatorProcedure.query(({ ctx }) => ctx.platform.catalog.listForReview(ctx.platform.db)),

  decide: operatorProcedure
    .input(z.intersection(z.object({ collectionId: id }), decision))
    .mutation(({ ctx, input }) => ctx.platform.catalog.review(ctx.platform.db, ctx.user, input)),
});

export const catalogRouter = router({
  list: publicProcedure.query(async ({ ctx }) => {
    const rows = await ctx.platform.catalog.listPublished(ctx.platform.db);
    const now = ctx.platform.clock();
    return rows.map((row) => publicView(row.collection, row.issuerName, row, now));
  }),

  get: publicProcedure.input(z.object({ collectionId: id })).query(async ({ ctx, input }) => {
    const row = await ctx.platform.catalog.getPublished(ctx.platform.db, input.collectionId);
    return publicView(row.collection, row.issuerName, row, ctx.platform.clock());
  }),
});
