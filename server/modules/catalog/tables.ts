import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";

/**
 * The tables the catalog module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

export const issuers = pgTable(
  "issuers",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** The organisation's registered legal name. */
    name: text("name").notNull(),
    creditCode: text("credit_code"),
    status: text("status", { enum: ["pending", "approved", "rejected"] })
      .notNull()
      .default("pending"),
    applicantUserId: bigint("applicant_user_id", { mode: "number" }),
    rejectionReason: text("rejection_reason"),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("issuers_credit_code_key").on(t.creditCode),
    check("issuers_status_check", sql`${t.status} in ('pending', 'approved', 'rejected')`),
    check("issuers_rejection_has_reason", sql`(${t.status} = 'rejected') = (${t.rejectionReason} is not null)`),
  ],
);

export const MEDIA_TYPES = [
  "image/png",
  "image/jpeg",
  "image/webp",
  "image/gif",
  "video/mp4",
  "model/gltf-binary",
] as const;

export const media = pgTable(
  "media",
  {
    sha256: text("sha256").primaryKey(),
    mimeType: text("mime_type", { enum: MEDIA_TYPES }).notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    issuerId: bigint("issuer_id", { mode: "number" })
      .notNull()
      .references(() => issuers.id),
    /** Pixel size of a still image (null for video and models, and for images stored before variants existed). */
    width: integer("width"),
    height: integer("height"),
    /** The widths of the AVIF and WebP variants made at upload (null: none, serve the original). */
    variantWidths: integer("variant_widths").array(),
    createdAt: createdAt(),
  },
  (t) => [
    check("media_sha256_check", sql`${t.sha256} ~ '^[0-9a-f]{64}$'`),
    check("media_size_check", sql`${t.sizeBytes} > 0`),
    check(
      "media_type_check",
      sql`${t.mimeType} in ('image/png', 'image/jpeg', 'image/webp', 'image/gif', 'video/mp4', 'model/gltf-binary')`,
    ),
  ],
);

export const COLLECTION_STATUSES = ["draft", "submitted", "approved", "rejected", "published"] as const;

export const collections = pgTable(
  "collections",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    issuerId: bigint("issuer_id", { mode: "number" })
      .notNull()
      .references(() => issuers.id),
    title: text("title").notNull(),
    description: text("description").notNull(),
    creator: text("creator").notNull(),
    story: text("story").notNull(),
    mediaSha256: text("media_sha256")
      .notNull()
      .references(() => media.sha256),
    editionSize: integer("edition_size").notNull(),
    /** Integer fen, 64-bit; at most ¥1,000,000 (MAX_PRICE_FEN) an edition, ¥0 for a free collection. */
    priceFen: bigint("price_fen", { mode: "number" }).notNull(),
    saleStartsAt: timestamp("sale_starts_at", { withTimezone: true }).notNull(),
    saleEndsAt: timestamp("sale_ends_at", { withTimezone: true }).notNull(),
    perPersonLimit: integer("per_person_limit").notNull(),
    lockDays: integer("lock_days").notNull(),
    regiftDays: integer("regift_days").notNull(),
    status: text("status", { enum: COLLECTION_STATUSES }).notNull().default("draft"),
    rejectionReason: text("rejection_reason"),
    contractAddress: text("contract_address"),
    publishTxHash: text("publish_tx_hash"),
    /** When a publication was claimed (recorded before the factory is called; a stale claim may be resumed). */
    publishClaimedAt: timestamp("publish_claimed_at", { withTimezone: true }),
    /** A regulator's takedown: the collection burned on chain, off sale, shown as taken down. */
    takenDownAt: timestamp("taken_down_at", { withTimezone: true }),
    takedownReasonCode: integer("takedown_reason_code"),
    takedownTxHash: text("takedown_tx_hash"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("collections_issuer_idx").on(t.issuerId),
    index("collections_status_idx").on(t.status),
    uniqueIndex("collections_contract_key").on(t.contractAddress),
    check("collections_status_check", sql`${t.status} in ('draft', 'submitted', 'approved', 'rejected', 'published')`),
    check("collections_edition_size_check", sql`${t.editionSize} between 1 and 16777215`),
    check("collections_price_check", sql`${t.priceFen} between 0 and 100000000`),
    check("collections_limit_check", sql`${t.perPersonLimit} >= 1`),
    check("collections_lock_check", sql`${t.lockDays} >= 180 and ${t.regiftDays} >= ${t.lockDays}`),
    check("collections_window_check", sql`${t.saleEndsAt} > ${t.saleStartsAt}`),
    check("collections_rejection_has_reason", sql`(${t.status} = 'rejected') = (${t.rejectionReason} is not null)`),
    check("collections_published_has_contract", sql`(${t.status} = 'published') = (${t.contractAddress} is not null)`),
  ],
);
