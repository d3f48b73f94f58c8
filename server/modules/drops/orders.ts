import { randomBytes } from "node:crypto";

import { and, asc, eq, inArray, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { assignSlots, lockFreeSlots } from "./slots.js";
import { editionSlots, orderEvents, orders, purchaseCounts } from "./tables.js";

/**
 * The order state machine. Every state change of an order goes through {@link OrderMachine.transition}: it
 * moves the order row, does what the move means for the order's editions and for its person's count, and
 * writes the move into the order's history. The moves:
 *
 *   (new) → created   a reservation: its editions reserved
 *   (new) → paid      a free order (an airdrop's): its editions sold at once
 *   created → paid    the payment arrived: its editions sold
 *   created → expired the payment window closed or the collector gave up: editions and count given back
 *   paid → refunded   the money went back before delivery: editions and count given back
 *   paid → minting    its mint job is in a batch
 *   minting → minted  its tokens landed on chain
 *   minting → paid    delivery failed for good: paid, undeliverable, ready for its refund
 *
 * (The flash-sale group statement creates its orders in the statement itself, one round trip; see
 * reservation-sql.ts.)
 */

export type OrderRow = typeof orders.$inferSelect;
export type OrderStatus = OrderRow["status"];
/** A new order's row, before it is placed in its first state. */
export type NewOrder = Omit<typeof orders.$inferInsert, "id" | "status">;

/**
 * Random bytes for order numbers, drawn from the CSPRNG 4 KiB at a time: a crowd's attempts each need 6, and one
 * call per attempt cost about 9 µs of a flash-sale attempt's CPU. Each byte is used once.
 */
const orderNoEntropy = { bytes: Buffer.alloc(0), used: 0 };
function randomHex6(): string {
  if (orderNoEntropy.used + 6 > orderNoEntropy.bytes.length) {
    orderNoEntropy.bytes = randomBytes(4096);
    orderNoEntropy.used = 0;
  }
  const start = orderNoEntropy.used;
  orderNoEntropy.used += 6;
  return orderNoEntropy.bytes.toString("hex", start, start + 6);
}

/** `SZ` + the China date + 12 random hex digits. */
export function newOrderNo(now: Date): string {
  const shifted = new Date(now.getTime() + 8 * 3600_000);
  const date = shifted.toISOString().slice(0, 10).replaceAll("-", "");
  return `SZ${date}${randomHex6().toUpperCase()}`;
}

type Moved = Pick<OrderRow, "id" | "userId" | "collectionId" | "commitment" | "quantity">;

/** What each move of an existing order does besides changing its state. */
const MOVES: Record<string, { slots?: (tx: Db, orderIds: number[]) => Promise<unknown>; returnsCount?: true }> = {
  "created>paid": {
    slots: (tx, ids) =>
      tx
        .update(editionSlots)
        .set({ status: "sold" })
        .where(and(inArray(editionSlots.orderId, ids), eq(editionSlots.status, "reserved"))),
  },
  "created>expired": {
    slots: (tx, ids) =>
      tx
        .update(editionSlots)
        .set({ status: "available", orderId: null })
        .where(and(inArray(editionSlots.orderId, ids), eq(editionSlots.status, "reserved"))),
    returnsCount: true,
  },
  "paid>refunded": {
    slots: (tx, ids) =>
      tx.update(editionSlots).set({ status: "available", orderId: null }).where(inArray(editionSlots.orderId, ids)),
    returnsCount: true,
  },
  "paid>minting": {},
  "minting>minted": {},
  "minting>paid": {},
};

/** What a transition moves: new orders, one locked order, or orders by id (those still in `from`). */
export type Subject = { place: readonly NewOrder[] } | OrderRow | { ids: readonly number[]; from: OrderStatus };

async function recordMoves(
  tx: Db,
  at: Date,
  orderIds: readonly number[],
  from: OrderStatus | null,
  to: OrderStatus,
  reason: string,
) {
  if (orderIds.length === 0) return;
  await tx
    .insert(orderEvents)
    .values(orderIds.map((orderId) => ({ orderId, fromStatus: from, toStatus: to, reason, at })));
}

/** New orders of one collection placed in their first state, each claiming its editions (lowest free first). */
async function place(
  tx: Db,
  clock: () => Date,
  placed: readonly NewOrder[],
  to: "created" | "paid",
  reason: string,
): Promise<(OrderRow & { editions: number[] })[]> {
  const collectionId = placed[0]!.collectionId;
  if (placed.some((order) => order.collectionId !== collectionId)) throw new Error("one collection per placement");
  const created = await tx
    .insert(orders)
    .values(placed.map((order) => ({ ...order, status: to })))
    .returning();
  const wanted = created.reduce((sum, order) => sum + order.quantity, 0);
  const editions = await lockFreeSlots(tx, collectionId, wanted);
  if (editions.length < wanted) throw new AppError("drop.soldOut");
  let next = 0;
  const withEditions = created.map((order) => ({ ...order, editions: editions.slice(next, (next += order.quantity)) }));
  await assignSlots(
    tx,
    collectionId,
    withEditions.map((order) => ({ orderId: order.id, editions: order.editions })),
    to === "paid" ? "sold" : "reserved",
  );
  await recordMoves(
    tx,
    clock(),
    created.map((order) => order.id),
    null,
    to,
    reason,
  );
  return withEditions;
}

/** Existing orders moved from `from` to `to` (those no longer in `from` stay); returns those moved. */
async function move(
  tx: Db,
  clock: () => Date,
  target: { ids: readonly number[]; from: OrderStatus },
  to: OrderStatus,
  reason: string,
  paidAt?: Date,
): Promise<Moved[]> {
  const { ids, from } = target;
  const effects = MOVES[`${from}>${to}`];
  if (effects === undefined) throw new Error(`no order moves from ${from} to ${to}`);
  if (ids.length === 0) return [];
  const moved = await tx
    .update(orders)
    .set({ status: to, updatedAt: clock(), ...(from === "created" && to === "paid" ? { paidAt } : {}) })
    .where(and(inArray(orders.id, [...ids]), eq(orders.status, from)))
    .returning({
      id: orders.id,
      userId: orders.userId,
      collectionId: orders.collectionId,
      commitment: orders.commitment,
      quantity: orders.quantity,
    });
  const movedIds = moved.map((order) => order.id);
  if (movedIds.length > 0) await effects.slots?.(tx, movedIds);
  if (effects.returnsCount) {
    for (const order of moved) {
      await tx
        .update(purchaseCounts)
        .set({ count: sql`${purchaseCounts.count} - ${order.quantity}` })
        .where(
          and(eq(purchaseCounts.collectionId, order.collectionId), eq(purchaseCounts.commitment, order.commitment)),
        );
    }
  }
  await recordMoves(tx, clock(), movedIds, from, to, reason);
  return moved;
}

export interface OrderMachine {
  /** Places new orders of one collection in their first state; "drop.soldOut" when their editions are not all free. */
  transition(
    tx: Db,
    subject: { place: readonly NewOrder[] },
    to: "created" | "paid",
    reason?: string,
  ): Promise<(OrderRow & { editions: number[] })[]>;
  /**
   * Moves a locked order, or orders by id that are still in `from`, to `to`; returns those moved. `paidAt`:
   * when the payment of a created order was made.
   */
  transition(
    tx: Db,
    subject: OrderRow | { ids: readonly number[]; from: OrderStatus },
    to: OrderStatus,
    reason?: string,
    paidAt?: Date,
  ): Promise<Moved[]>;
}

export function createOrderMachine(clock: () => Date): OrderMachine {
  return {
    transition: ((tx: Db, subject: Subject, to: OrderStatus, reason = "", paidAt?: Date) => {
      if ("place" in subject) return place(tx, clock, subject.place, to as "created" | "paid", reason);
      const target = "ids" in subject ? subject : { ids: [subject.id], from: subject.status };
      return move(tx, clock, target, to, reason, paidAt);
    }) as OrderMachine["transition"],
  };
}

/** The order a collector made with an idempotency key for a collection (a key is scoped to both). */
export async function findByKey(db: Db, userId: number, collectionId: number, idempotencyKey: string) {
  const [row] = await db
    .select()
    .from(orders)
    .where(
      and(eq(orders.userId, userId), eq(orders.collectionId, collectionId), eq(orders.idempotencyKey, idempotencyKey)),
    );
  return row;
}

/** An order's edition numbers, lowest first. */
export async function editionsOf(db: Db, orderId: number): Promise<number[]> {
  const rows = await db
    .select({ editionNo: editionSlots.editionNo })
    .from(editionSlots)
    .where(eq(editionSlots.orderId, orderId))
    .orderBy(asc(editionSlots.editionNo));
  return rows.map((r) => r.editionNo);
}
