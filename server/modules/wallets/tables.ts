import { sql } from "drizzle-orm";
import { bigint, check, integer, pgTable, text, uniqueIndex } from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";
import { users } from "../identity/tables.js";

/**
 * The tables the wallets module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

export const wallets = pgTable(
  "wallets",
  {
    userId: bigint("user_id", { mode: "number" })
      .primaryKey()
      .references(() => users.id),
    address: text("address").notNull(),
    derivationIndex: integer("derivation_index").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("wallets_address_key").on(t.address),
    uniqueIndex("wallets_derivation_index_key").on(t.derivationIndex),
    check("wallets_derivation_index_check", sql`${t.derivationIndex} >= 0`),
  ],
);
