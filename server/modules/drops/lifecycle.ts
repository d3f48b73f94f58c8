import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import type { AdmissionGate } from "./gate.js";
import { type OrderMachine, type OrderRow, editionsOf } from "./orders.js";
import { orderEvents, orders } from "./tables.js";

/** The reason an unpaid order closed by its own collector carries in its history (shown to them). */
export const CANCELLED_BY_COLLECTOR = "cancelled by the collector";

/**
 * An order's life after its reservation, as the collector, the payments module and the delivery pipeline
 * see it: each change is a {@link OrderMachine.transition}. Editions given back make the admission gate
 * count again from the database.
 */

export interface LifecycleDependencies {
  clock: () => Date;
  gate: Pick<AdmissionGate, "restock">;
  machine: OrderMachine;
}

/** The collector's own orders: someone else's is "not found" (its existence is not disclosed). */
export function createOrderQueries() {
  return {
    async order(db: Db, userId: number, orderNo: string) {
      const [row] = await db
        .select()
        .from(orders)
        .where(and(eq(orders.orderNo, orderNo), eq(orders.userId, userId)));
      if (row === undefined) throw new AppError("order.notFound");
      return { ...row, editions: await editionsOf(db, row.id) };
    },

    async myOrders(db: Db, userId: number) {
      return db
        .select()
        .from(orders)
        .where(eq(orders.userId, userId))
        .orderBy(sql`${orders.id} desc`)
        .limit(100);
    },

    async orderHistory(db: Db, orderId: number) {
      return db.select().from(orderEvents).where(eq(orderEvents.orderId, orderId)).orderBy(asc(orderEvents.id));
    },

    async orderByNo(db: Db, orderNo: string) {
      const [row] = await db.select().from(orders).where(eq(orders.orderNo, orderNo));
      return row;
    },

    /** A collection's orders that were paid for or given (paid, being minted, minted): a takedown's refunds. */
    async settledOrdersOf(db: Db, collectionId: number) {
      return db
        .select()
        .from(orders)
        .where(and(eq(orders.collectionId, collectionId), inArray(orders.status, ["paid", "minting", "minted"])))
        .orderBy(asc(orders.id));
    },

    async orderById(db: Db, orderId: number) {
      const [row] = await db.select().from(orders).where(eq(orders.id, orderId));
      return row;
    },

    /** The order behind a payment, locked for the caller's transaction. */
    async lockOrder(tx: Db, orderId: number): Promise<OrderRow> {
      const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for("update");
      if (order === undefined) throw new AppError("order.notFound");
      return order;
    },
  };
}

/** Unpaid orders leaving: past their deadline, or given up by the collector. */
export function createExpiry({ clock, gate, machine }: LifecycleDependencies) {
  /** Gives an unpaid order's editions and count back; the caller holds the order row. */
  async function expire(tx: Db, order: OrderRow, reason: string) {
    await machine.transition(tx, order, "expired", reason);
    // The gate's counter gets the editions back, and the person their count (corrected, not reset).
    await gate.restock(order.collectionId, order.quantity, String(order.userId));
  }

  return {
    /** Expires unpaid orders past their deadline, giving their editions back. Safe to run on several instances. */
    async expireDue(db: Db, limit = 200): Promise<number> {
      const now = clock();
      return db.transaction(async (tx) => {
        const due = await tx
          .select()
          .from(orders)
          .where(and(eq(orders.status, "created"), lte(orders.expiresAt, now)))
          .orderBy(asc(orders.expiresAt))
          .limit(limit)
          .for("update", { skipLocked: true });
        for (const order of due) await expire(tx, order, "payment window closed");
        return due.length;
      });
    },

    /** Every unpaid order of a collection leaves (a takedown), in the caller's transaction. */
    async expireCollection(tx: Db, collectionId: number, reason: string): Promise<number> {
      const open = await tx
        .select()
        .from(orders)
        .where(and(eq(orders.collectionId, collectionId), eq(orders.status, "created")))
        .for("update");
      for (const order of open) await expire(tx, order, reason);
      return open.length;
    },

    /** The collector gives up an unpaid order at once. */
    async cancel(db: Db, userId: number, orderNo: string) {
      return db.transaction(async (tx) => {
        const [order] = await tx
          .select()
          .from(orders)
          .where(and(eq(orders.orderNo, orderNo), eq(orders.userId, userId)))
          .for("update");
        if (order === undefined) throw new AppError("order.notFound");
        if (order.status !== "created") throw new AppError("order.wrongState", { status: order.status });
        await expire(tx, order, CANCELLED_BY_COLLECTOR);
      });
    },
  };
}

/** What payments and delivery make of an order, in the caller's transaction. */
export function createSettlement({ gate, machine }: LifecycleDependencies) {
  return {
    /**
     * Records the payment of a locked order: a reserved order becomes paid and its editions sold.
     * An order that expired first is "late" (the money must go back); a paid one is a "duplicate".
     */
    async markPaid(tx: Db, order: OrderRow, paidAt: Date): Promise<"paid" | "late" | "duplicate"> {
      if (order.status === "expired") return "late";
      if (order.status !== "created") return "duplicate";
      await machine.transition(tx, order, "paid", "", paidAt);
      return "paid";
    },

    /** A paid order's money went back before delivery: its editions and the person's count return. */
    async markRefunded(tx: Db, order: OrderRow, reason: string) {
      if (order.status !== "paid") return false;
      await machine.transition(tx, order, "refunded", reason);
      await gate.restock(order.collectionId, order.quantity, String(order.userId));
      return true;
    },

    /** Paid orders whose mint jobs were put in a batch. */
    async markMinting(tx: Db, orderIds: number[]) {
      await machine.transition(tx, { ids: orderIds, from: "paid" }, "minting");
    },

    /** Orders whose tokens landed on chain; returns each one's buyer. */
    async markMinted(tx: Db, orderIds: number[], reason: string): Promise<Map<number, number>> {
      const moved = await machine.transition(tx, { ids: orderIds, from: "minting" }, "minted", reason);
      return new Map(moved.map(({ id, userId }) => [id, userId]));
    },

    /** Delivery failed for good: the order is paid but undeliverable, ready for its refund. */
    async markUndeliverable(tx: Db, orderId: number, reason: string) {
      await machine.transition(tx, { ids: [orderId], from: "minting" }, "paid", `delivery failed: ${reason}`);
    },
  };
}
