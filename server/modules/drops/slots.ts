import { eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { editionStock } from "./tables.js";

/**
 * Editions and per-person counts: the pre-allocated slots a reservation claims with `FOR UPDATE SKIP LOCKED`
 * (so concurrent buyers take different rows instead of queueing on one stock counter) and the per-identity
 * count that stays within the collection's limit.
 */

export interface Stock {
  editionSize: number;
  available: number;
  reserved: number;
  sold: number;
}

/** Rows of a raw `execute`, on PGlite and node-postgres alike. */
export function rowsOf(result: unknown): unknown[] {
  const rows = (result as { rows?: unknown[] }).rows;
  return Array.isArray(rows) ? rows : [];
}

/** Pre-allocates one slot per edition; called once when a collection is published. */
export async function allocate(db: Db, collectionId: number, editionSize: number) {
  await db.execute(sql`
    insert into edition_slots (collection_id, edition_no)
    select ${collectionId}, n from generate_series(1, ${editionSize}::int) as n
    on conflict do nothing`);
}

/** A collection's stock: the sum of its counter's shards (kept with the slots by triggers), not a count of its slots. */
export async function stock(db: Db, collectionId: number): Promise<Stock> {
  const [row] = await db
    .select({
      available: sql<number>`coalesce(sum(${editionStock.available}), 0)::int`,
      reserved: sql<number>`coalesce(sum(${editionStock.reserved}), 0)::int`,
      sold: sql<number>`coalesce(sum(${editionStock.sold}), 0)::int`,
    })
    .from(editionStock)
    .where(eq(editionStock.collectionId, collectionId));
  const counts = { available: row?.available ?? 0, reserved: row?.reserved ?? 0, sold: row?.sold ?? 0 };
  return { editionSize: counts.available + counts.reserved + counts.sold, ...counts };
}

/**
 * Raises each identity's count of the collection by its quantity within `limit`; returns the identities that
 * stayed within it.
 */
export async function countPurchases(
  tx: Db,
  collection: { id: number; perPersonLimit: number },
  wanted: readonly { commitment: string; quantity: number }[],
): Promise<Set<string>> {
  // Sorted, so concurrent batches lock the count rows in one order and cannot deadlock each other.
  const sorted = [...wanted].sort((a, b) => (a.commitment < b.commitment ? -1 : a.commitment > b.commitment ? 1 : 0));
  const counted = await tx.execute(sql`
    insert into purchase_counts (collection_id, commitment, count)
    values ${sql.join(
      sorted.map((w) => sql`(${collection.id}, ${w.commitment}, ${w.quantity}::int)`),
      sql`, `,
    )}
    on conflict (collection_id, commitment) do update
      set count = purchase_counts.count + excluded.count
      where purchase_counts.count + excluded.count <= ${collection.perPersonLimit}
    returning commitment`);
  return new Set(rowsOf(counted).map((row) => (row as { commitment: string }).commitment));
}

/**
 * Locks up to `count` available slots, lowest edition numbers first, skipping those other transactions
 * hold. The limit stands outside the locking subquery so that rows are locked as they are pulled: a slot
 * another buyer took since this statement's snapshot is skipped and the next one pulled. (With the limit
 * inside, rows are counted before locking, and one taken meanwhile makes the answer short: "sold out"
 * while editions are left.)
 */
export async function lockFreeSlots(tx: Db, collectionId: number, count: number): Promise<number[]> {
  const locked = await tx.execute(sql`
    select edition_no from (
      select edition_no from edition_slots
      where collection_id = ${collectionId} and status = 'available'
      order by edition_no
      for update skip locked) as free
    limit ${count}`);
  return rowsOf(locked).map((row) => Number((row as { edition_no: number }).edition_no));
}

/** Gives locked slots to their orders, reserved (awaiting payment) or sold (a free order, paid already). */
export async function assignSlots(
  tx: Db,
  collectionId: number,
  assignments: readonly { orderId: number; editions: readonly number[] }[],
  status: "reserved" | "sold",
) {
  const pairs = assignments.flatMap(({ orderId, editions }) => editions.map((editionNo) => ({ orderId, editionNo })));
  await tx.execute(sql`
    update edition_slots set status = ${sql.raw(status === "sold" ? "'sold'" : "'reserved'")}, order_id = assigned.order_id
    from (values ${sql.join(
      pairs.map(({ orderId, editionNo }) => sql`(${editionNo}::int, ${orderId}::bigint)`),
      sql`, `,
    )}) as assigned (edition_no, order_id)
    where edition_slots.collection_id = ${collectionId} and edition_slots.edition_no = assigned.edition_no`);
}
