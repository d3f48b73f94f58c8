import { bigint, bigserial, index, integer, pgTable, primaryKey, text, timestamp } from "drizzle-orm/pg-core";

import { collections } from "../catalog/tables.js";
import { orders } from "../drops/tables.js";
import { users } from "../identity/tables.js";

/**
 * The tables the collectibles module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

/**
 * The platform's index of the tokens it minted and who holds them. The chain
 * is the truth; this index makes "my collectibles" fast and is updated by
 * minting and gifting. Public verification reads the chain, never this table.
 */
export const tokens = pgTable(
  "tokens",
  {
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    tokenId: integer("token_id").notNull(),
    ownerUserId: bigint("owner_user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    orderId: bigint("order_id", { mode: "number" }).references(() => orders.id),
    mintTxHash: text("mint_tx_hash"),
    mintedAt: timestamp("minted_at", { withTimezone: true }).notNull(),
    acquiredAt: timestamp("acquired_at", { withTimezone: true }).notNull(),
    /** A takedown of this token (or of its whole collection): burned on chain, no longer held. */
    takenDownAt: timestamp("taken_down_at", { withTimezone: true }),
    takedownReasonCode: integer("takedown_reason_code"),
    takedownTxHash: text("takedown_tx_hash"),
  },
  (t) => [primaryKey({ columns: [t.collectionId, t.tokenId] }), index("tokens_owner_idx").on(t.ownerUserId)],
);

export const gifts = pgTable(
  "gifts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    collectionId: bigint("collection_id", { mode: "number" })
      .notNull()
      .references(() => collections.id),
    tokenId: integer("token_id").notNull(),
    fromUserId: bigint("from_user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    toUserId: bigint("to_user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    txHash: text("tx_hash").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [index("gifts_from_idx").on(t.fromUserId), index("gifts_to_idx").on(t.toUserId)],
);
