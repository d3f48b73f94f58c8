import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";
import { collections, issuers } from "../catalog/tables.js";
import { users } from "../identity/tables.js";

/**
 * The tables the drops module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

/** One row per edition, made when the collection is published; a reservation claims rows with SKIP LOCKED. */
export const editionSlots = pgTable(
  "edition_slots",
  {
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    editionNo: integer("edition_no").notNull(),
    status: text("status", { enum: ["available", "reserved", "sold"] })
      .notNull()
      .default("available"),
    orderId: bigint("order_id", { mode: "number" }),
  },
  (t) => [
    primaryKey({ columns: [t.collectionId, t.editionNo] }),
    index("edition_slots_available_idx").on(t.collectionId, t.status),
    // The free slots of a collection in edition order: a reservation's SKIP LOCKED scan reads only these,
    // not the reserved and sold ones before them (8 ms at half sold out of 10,000, 0.3 ms with this index).
    index("edition_slots_free_idx")
      .on(t.collectionId, t.editionNo)
      .where(sql`${t.status} = 'available'`),
    index("edition_slots_order_idx").on(t.orderId),
    check("edition_slots_status_check", sql`${t.status} in ('available', 'reserved', 'sold')`),
    check("edition_slots_order_check", sql`(${t.status} = 'available') = (${t.orderId} is null)`),
    check("edition_slots_edition_check", sql`${t.editionNo} >= 1`),
  ],
);

/**
 * A collection's slots by status, kept by triggers on `edition_slots` in the transaction that changes them
 * (migration 0012), so a page's stock is a read of a few rows, not a count of every edition. Split in
 * shards by the writing connection (`pg_backend_pid() % 16`): concurrent reservations add to different
 * rows instead of queueing on one counter. A collection's stock is the sum of its shards.
 */
export const editionStock = pgTable(
  "edition_stock",
  {
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    shard: integer("shard").notNull(),
    available: integer("available").notNull().default(0),
    reserved: integer("reserved").notNull().default(0),
    sold: integer("sold").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.collectionId, t.shard] })],
);

/** Editions held (reserved or bought) per person, keyed by identity commitment, never above the collection's limit. */
export const purchaseCounts = pgTable(
  "purchase_counts",
  {
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    commitment: text("commitment").notNull(),
    count: integer("count").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.collectionId, t.commitment] }),
    check("purchase_counts_count_check", sql`${t.count} >= 0`),
  ],
);

export const ORDER_STATUSES = ["created", "paid", "minting", "minted", "expired", "refunded"] as const;

export const orders = pgTable(
  "orders",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    orderNo: text("order_no").notNull(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    commitment: text("commitment").notNull(),
    quantity: integer("quantity").notNull(),
    /** Integer fen, 64-bit: at most MAX_PRICE_FEN (catalog) each, MAX_ORDER_FEN in all. */
    unitPriceFen: bigint("unit_price_fen", { mode: "number" }).notNull(),
    amountFen: bigint("amount_fen", { mode: "number" }).notNull(),
    status: text("status", { enum: ORDER_STATUSES }).notNull().default("created"),
    idempotencyKey: text("idempotency_key").notNull(),
    /** Set on the free orders of an issuer's airdrop. */
    airdropId: bigint("airdrop_id", { mode: "number" }),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    paidAt: timestamp("paid_at", { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("orders_order_no_key").on(t.orderNo),
    // A key is the caller's, for one collection: the same key on another collection is another order.
    uniqueIndex("orders_idempotency_key").on(t.userId, t.collectionId, t.idempotencyKey),
    index("orders_user_idx").on(t.userId),
    index("orders_expiry_idx").on(t.status, t.expiresAt),
    check("orders_status_check", sql`${t.status} in ('created', 'paid', 'minting', 'minted', 'expired', 'refunded')`),
    check("orders_quantity_check", sql`${t.quantity} >= 1`),
    check("orders_amount_check", sql`${t.amountFen} = ${t.quantity} * ${t.unitPriceFen} and ${t.unitPriceFen} >= 0`),
    check("orders_paid_has_time", sql`(${t.status} in ('created', 'expired')) = (${t.paidAt} is null)`),
  ],
);

/** Every state change of an order, in order. */
export const orderEvents = pgTable(
  "order_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    orderId: bigint("order_id", { mode: "number" })
      .notNull()
      .references(() => orders.id),
    fromStatus: text("from_status"),
    toStatus: text("to_status").notNull(),
    reason: text("reason").notNull().default(""),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [index("order_events_order_idx").on(t.orderId)],
);

/**
 * Lottery mode of a drop: the seed's hash is published when the lottery is
 * opened (before registration closes); at the draw the seed is revealed and
 * mixed with a block hash nobody knew in advance, so anyone can recompute the
 * winners from the published seed, anchor and registration list.
 */
export const lotteries = pgTable(
  "lotteries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    registrationEndsAt: timestamp("registration_ends_at", { withTimezone: true }).notNull(),
    winnersCount: integer("winners_count").notNull(),
    seedCommitment: text("seed_commitment").notNull(),
    /** The seed sealed with the platform's secret key (never plain text), revealed by the draw. */
    seedSealed: text("seed_sealed").notNull(),
    revealed: boolean("revealed").notNull().default(false),
    anchor: text("anchor"),
    drawnAt: timestamp("drawn_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("lotteries_collection_key").on(t.collectionId),
    check("lotteries_winners_check", sql`${t.winnersCount} >= 1`),
    check("lotteries_seed_sealed_check", sql`${t.seedSealed} like 'v1.%'`),
    check(
      "lotteries_drawn_check",
      sql`(${t.drawnAt} is null) = (${t.anchor} is null) and (${t.drawnAt} is null) = (not ${t.revealed})`,
    ),
  ],
);

export const lotteryEntries = pgTable(
  "lottery_entries",
  {
    lotteryId: bigint("lottery_id", { mode: "number" })
      .notNull()
      .references(() => lotteries.id),
    commitment: text("commitment").notNull(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    won: boolean("won").notNull().default(false),
    registeredAt: timestamp("registered_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.lotteryId, t.commitment] })],
);

/**
 * The one result of a lottery's draw, written once (its primary key is the lottery): the revealed seed, the
 * chain block at or after the fixed draw time whose hash was mixed in, and the hash of the sorted entry list.
 * Anyone can recompute the winners from these (`npm run lottery:verify`).
 */
export const lotteryDraws = pgTable(
  "lottery_draws",
  {
    lotteryId: bigint("lottery_id", { mode: "number" })
      .primaryKey()
      .references(() => lotteries.id),
    seed: text("seed").notNull(),
    blockNumber: bigint("block_number", { mode: "number" }).notNull(),
    blockHash: text("block_hash").notNull(),
    entriesHash: text("entries_hash").notNull(),
    entryCount: integer("entry_count").notNull(),
    winnersHash: text("winners_hash").notNull(),
    /** Null when the scheduler drew at the fixed time; the operator who triggered it otherwise. */
    drawnBy: bigint("drawn_by", { mode: "number" }).references(() => users.id),
    drawnAt: timestamp("drawn_at", { withTimezone: true }).notNull(),
  },
  (t) => [check("lottery_draws_block_check", sql`${t.blockNumber} >= 0`)],
);

/** An issuer's free distribution of editions to a list of verified collectors. */
export const airdrops = pgTable("airdrops", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  collectionId: bigint("collection_id", { mode: "number" })
    .notNull()
    .references(() => collections.id),
  issuerId: bigint("issuer_id", { mode: "number" })
    .notNull()
    .references(() => issuers.id),
  createdBy: bigint("created_by", { mode: "number" }).notNull(),
  recipients: integer("recipients").notNull(),
  createdAt: createdAt(),
});
