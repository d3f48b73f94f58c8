import { and, desc, eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { ORDER_STATUSES, editionStock, orders } from "./tables.js";

/**
 * What the drops module tells operators and the metrics endpoint about its
 * orders and editions (no personal data). Read-only.
 */
export { ORDER_STATUSES };
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Orders by state, newest first, for refunds and follow-up. */
export function listOrders(
  db: Db,
  input: { status?: OrderStatus | undefined; orderNo?: string | undefined; userId?: number | undefined; limit: number },
) {
  const conditions = [
    ...(input.status === undefined ? [] : [eq(orders.status, input.status)]),
    ...(input.userId === undefined ? [] : [eq(orders.userId, input.userId)]),
    ...(input.orderNo === undefined ? [] : [eq(orders.orderNo, input.orderNo)]),
  ];
  return db
    .select({
      orderNo: orders.orderNo,
      userId: orders.userId,
      collectionId: orders.collectionId,
      quantity: orders.quantity,
      amountFen: orders.amountFen,
      status: orders.status,
      createdAt: orders.createdAt,
      paidAt: orders.paidAt,
    })
    .from(orders)
    .where(conditions.length === 0 ? undefined : and(...conditions))
    .orderBy(desc(orders.id))
    .limit(input.limit);
}

/** How many orders are in each state. */
export function orderCountsByStatus(db: Db): Promise<{ status: string; n: number }[]> {
  return db
    .select({ status: orders.status, n: sql<number>`count(*)::int` })
    .from(orders)
    .groupBy(orders.status);
}

/** Editions of published collections by state (available, reserved for an unpaid order, sold), from the stock counters. */
export async function slotCountsByState(db: Db): Promise<{ status: string; n: number }[]> {
  const [row] = await db
    .select({
      available: sql<number>`coalesce(sum(${editionStock.available}), 0)::int`,
      reserved: sql<number>`coalesce(sum(${editionStock.reserved}), 0)::int`,
      sold: sql<number>`coalesce(sum(${editionStock.sold}), 0)::int`,
    })
    .from(editionStock);
  return (["available", "reserved", "sold"] as const)
    .map((status) => ({ status, n: row?.[status] ?? 0 }))
    .filter((entry) => entry.n > 0);
}
