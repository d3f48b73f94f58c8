import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";
import { collections } from "../catalog/tables.js";
import { orders } from "../drops/tables.js";

/**
 * The tables the minting module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

/** The mint outbox: one job per paid order, written in the payment's transaction; the delivery pipeline drains it. */
export const mintJobs = pgTable(
  "mint_jobs",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    orderId: bigint("order_id", { mode: "number" })
      .notNull()
      .references(() => orders.id),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    recipient: text("recipient").notNull(),
    quantity: integer("quantity").notNull(),
    status: text("status", { enum: ["pending", "sent", "minted", "parked"] })
      .notNull()
      .default("pending"),
    batchId: bigint("batch_id", { mode: "number" }),
    firstTokenId: integer("first_token_id"),
    parkedReason: text("parked_reason"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("mint_jobs_order_key").on(t.orderId),
    index("mint_jobs_pending_idx").on(t.status, t.collectionId),
    // A batch's jobs (settling, abandoning, parking it): without it, each batch scanned the whole outbox.
    index("mint_jobs_batch_idx").on(t.batchId),
    check("mint_jobs_status_check", sql`${t.status} in ('pending', 'sent', 'minted', 'parked')`),
    check("mint_jobs_quantity_check", sql`${t.quantity} >= 1`),
    check("mint_jobs_batch_check", sql`(${t.status} in ('sent', 'minted')) = (${t.batchId} is not null)`),
    check("mint_jobs_token_check", sql`(${t.status} = 'minted') = (${t.firstTokenId} is not null)`),
  ],
);

/**
 * One mint transaction. Its id is the on-chain `batchId`; `expectedFirstTokenId`
 * makes the collection refuse it if anything was minted since it was planned,
 * so a batch can land at most once, and which tokens it made follows from it.
 */
export const mintBatches = pgTable(
  "mint_batches",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    contractAddress: text("contract_address").notNull(),
    expectedFirstTokenId: integer("expected_first_token_id").notNull(),
    tokenCount: integer("token_count").notNull(),
    status: text("status", { enum: ["planned", "confirmed", "abandoned"] })
      .notNull()
      .default("planned"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull(),
    txHash: text("tx_hash"),
    blockNumber: bigint("block_number", { mode: "number" }),
    lastError: text("last_error"),
    /**
     * The highest nonce any attempt of this batch was (or was about to be) broadcast with, written before
     * broadcasting; null when it never was. Once the minter's mined transaction count is past it, no attempt
     * of the batch can be mined any more.
     */
    nonce: integer("nonce"),
    createdAt: createdAt(),
  },
  (t) => [
    index("mint_batches_open_idx").on(t.status, t.collectionId),
    // Several batches of a collection may be in flight, one after another (each starts where the one before
    // ends); two can never be planned from the same first token id.
    uniqueIndex("mint_batches_one_planned_per_start")
      .on(t.collectionId, t.expectedFirstTokenId)
      .where(sql`${t.status} = 'planned'`),
    check("mint_batches_status_check", sql`${t.status} in ('planned', 'confirmed', 'abandoned')`),
    check("mint_batches_count_check", sql`${t.tokenCount} >= 1`),
  ],
);
