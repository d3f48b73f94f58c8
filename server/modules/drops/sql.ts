import { type SQL, and, eq, lte, sql } from "drizzle-orm";

import { orders } from "./tables.js";

/**
 * The drops module's SQL for other modules' statements: sets of order ids, as subqueries, so that the
 * mint outbox and the payments module can read their own rows by order without reading `orders`.
 */

/** The ids of an airdrop's orders. */
export function ordersOfAirdrop(airdropId: number): SQL {
  return sql`(select ${orders.id} from ${orders} where ${eq(orders.airdropId, airdropId)})`;
}

/** The ids of unpaid orders whose payment window has closed at `now`. */
export function unpaidOrdersDue(now: Date): SQL {
  return sql`(select ${orders.id} from ${orders} where ${and(eq(orders.status, "created"), lte(orders.expiresAt, now))})`;
}
