import { and, eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import type { KycService } from "../kyc/service.js";
import { stock } from "./slots.js";
import { orders, purchaseCounts } from "./tables.js";

/** What a drop has sold, for its issuer, and what one person holds of it. */

/** An issuer's view of one collection's sales: stock, revenue, paid orders per hour and orders by state. */
export async function salesOf(db: Db, collectionId: number) {
  // Airdrops are gifts, not sales: counted apart from sold editions, paid orders and revenue.
  const paidStates = sql`(${orders.status} in ('paid', 'minting', 'minted') and ${orders.airdropId} is null)`;
  const airdropStates = sql`(${orders.status} in ('paid', 'minting', 'minted') and ${orders.airdropId} is not null)`;
  const [totals] = await db
    .select({
      revenueFen: sql<number>`coalesce(sum(${orders.amountFen}) filter (where ${paidStates}), 0)::bigint`,
      paidOrders: sql<number>`count(*) filter (where ${paidStates})::int`,
      soldEditions: sql<number>`coalesce(sum(${orders.quantity}) filter (where ${paidStates}), 0)::int`,
      airdroppedEditions: sql<number>`coalesce(sum(${orders.quantity}) filter (where ${airdropStates}), 0)::int`,
    })
    .from(orders)
    .where(eq(orders.collectionId, collectionId));
  const series = await db
    .select({
      hour: sql<string>`date_trunc('hour', ${orders.paidAt})`,
      editions: sql<number>`sum(${orders.quantity})::int`,
      revenueFen: sql<number>`sum(${orders.amountFen})::bigint`,
    })
    .from(orders)
    .where(and(eq(orders.collectionId, collectionId), paidStates))
    .groupBy(sql`1`)
    .orderBy(sql`1`);
  const byStatus = await db
    .select({ status: orders.status, count: sql<number>`count(*)::int` })
    .from(orders)
    .where(eq(orders.collectionId, collectionId))
    .groupBy(orders.status);
  return {
    stock: await stock(db, collectionId),
    revenueFen: Number(totals?.revenueFen ?? 0),
    paidOrders: totals?.paidOrders ?? 0,
    soldEditions: totals?.soldEditions ?? 0,
    airdroppedEditions: totals?.airdroppedEditions ?? 0,
    series: series.map((row) => ({
      hour: new Date(row.hour),
      editions: row.editions,
      revenueFen: Number(row.revenueFen),
    })),
    ordersByStatus: Object.fromEntries(byStatus.map((row) => [row.status, row.count])),
  };
}

/** How many editions of a collection the caller's identity holds (reserved or bought) against its limit. */
export async function allowance(kyc: Pick<KycService, "commitmentOf">, db: Db, userId: number, collectionId: number) {
  const commitment = await kyc.commitmentOf(db, userId);
  if (commitment === null) return { held: 0 };
  const [row] = await db
    .select({ count: purchaseCounts.count })
    .from(purchaseCounts)
    .where(and(eq(purchaseCounts.collectionId, collectionId), eq(purchaseCounts.commitment, commitment)));
  return { held: row?.count ?? 0 };
}
