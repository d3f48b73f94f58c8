import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import {
  collectorProcedure,
  operatorProcedure,
  publicProcedure,
  router,
  verifiedCollectorProcedure,
} from "../../trpc/init.js";
import type { Platform } from "../../platform.js";
import type { OrderRow } from "./service.js";
import { CANCELLED_BY_COLLECTOR } from "./lifecycle.js";

const id = safe.id();
const orderNo = safe.pattern(/^SZ\d{8}[0-9A-F]{12}$/, "order.notFound", "SZ20261124000000000000");

export function orderView(order: OrderRow & { editions?: number[] }) {
  return {
    orderNo: order.orderNo,
    collectionId: order.collectionId,
    quantity: order.quantity,
    unitPriceFen: order.unitPriceFen,
    amountFen: order.amountFen,
    status: order.status,
    expiresAt: order.expiresAt,
    paidAt: order.paidAt,
    createdAt: order.createdAt,
    editions: order.editions ?? [],
  };
}

/** What the buy button sends to `drops.reserve`. */
export const reserveInput = z.object({
  collectionId: id,
  quantity: safe.int(1, 100),
  idempotencyKey: safe.pattern(/^[\w-]{8,64}$/, undefined, "fuzz-key-0001"),
});

/** `drops.reserve`'s answer for a verified collector: the procedure's resolver, and the reservation door's. */
export async function reserveFor(platform: Platform, userId: number, input: z.infer<typeof reserveInput>) {
  return orderView(await platform.drops.reserve(platform.db, userId, input));
}

export const dropsRouter = router({
  /**
   * Reserves editions for the payment window. A retry with the same
   * idempotency key answers with the same order. The price comes from the collection.
   * Served by the reservation door (server/http/reserve-door.ts), which runs this procedure's decisions
   * without tRPC's middleware chain; a batch of several calls comes here.
   */
  reserve: verifiedCollectorProcedure
    .input(reserveInput)
    .mutation(async ({ ctx, input }) => reserveFor(ctx.platform, ctx.user.id, input)),

  /** What the caller may still buy of a collection: its limit minus what its identity already holds. */
  allowance: collectorProcedure.input(z.object({ collectionId: id })).query(async ({ ctx, input }) => {
    const { collection } = await ctx.platform.catalog.getPublished(ctx.platform.db, input.collectionId);
    const { held } = await ctx.platform.drops.allowance(ctx.platform.db, ctx.user.id, input.collectionId);
    return { held, limit: collection.perPersonLimit, remaining: Math.max(0, collection.perPersonLimit - held) };
  }),

  /** Live stock of a published collection. */
  stock: publicProcedure.input(z.object({ collectionId: id })).query(async ({ ctx, input }) => {
    await ctx.platform.catalog.getPublished(ctx.platform.db, input.collectionId);
    return ctx.platform.drops.stock(ctx.platform.db, input.collectionId);
  }),
});

export const ordersRouter = router({
  /**
   * The caller's orders, newest first, each with its collection's title (what the collector bought) and its
   * refund when it has one (state, amount, why: a minted order refunded after a takedown stays `minted`).
   */
  mine: collectorProcedure.query(async ({ ctx }) => {
    const orders = await ctx.platform.drops.myOrders(ctx.platform.db, ctx.user.id);
    const titles = await ctx.platform.catalog.titlesOf(
      ctx.platform.db,
      orders.map((order) => order.collectionId),
    );
    // Only the caller's own orders are asked about (the payments module owns the refunds).
    const refunds = await ctx.platform.payments.refundsOfOrders(
      ctx.platform.db,
      orders.map((order) => order.id),
    );
    return orders.map((order) => ({
      ...orderView(order),
      title: titles.get(order.collectionId)?.title ?? "",
      refund: refunds.get(order.id) ?? null,
    }));
  }),

  get: collectorProcedure.input(z.object({ orderNo })).query(async ({ ctx, input }) => {
    const order = await ctx.platform.drops.order(ctx.platform.db, ctx.user.id, input.orderNo);
    const history = await ctx.platform.drops.orderHistory(ctx.platform.db, order.id);
    const minted = await ctx.platform.collectibles.tokensOfOrder(ctx.platform.db, order.id);
    const refunds = await ctx.platform.payments.refundsOfOrders(ctx.platform.db, [order.id]);
    return {
      ...orderView(order),
      /** The order's refund (a takedown's, an operator's, a failed delivery's), or null. */
      refund: refunds.get(order.id) ?? null,
      minted,
      // Reasons can hold an operator's own words (a refund's): the buyer sees only the ones written for them.
      history: history.map((e) => ({
        from: e.fromStatus,
        to: e.toStatus,
        at: e.at,
        reason: e.reason === CANCELLED_BY_COLLECTOR ? e.reason : "",
      })),
    };
  }),

  cancel: collectorProcedure.input(z.object({ orderNo })).mutation(async ({ ctx, input }) => {
    await ctx.platform.drops.cancel(ctx.platform.db, ctx.user.id, input.orderNo);
    return { ok: true as const };
  }),
});

export const lotteryRouter = router({
  /** Opens lottery mode for a published drop: fixes the draw time; the sealed seed's hash is published at once. */
  open: operatorProcedure
    .input(
      z.object({
        collectionId: id,
        registrationEndsAt: safe.date(),
        winnersCount: safe.int(1, 1_000_000),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const row = await ctx.platform.lottery.open(ctx.platform.db, ctx.user, input);
      return {
        seedCommitment: row.seedCommitment,
        registrationEndsAt: row.registrationEndsAt,
        drawAt: row.registrationEndsAt,
        winnersCount: row.winnersCount,
      };
    }),

  register: verifiedCollectorProcedure.input(z.object({ collectionId: id })).mutation(async ({ ctx, input }) => {
    await ctx.platform.lottery.register(ctx.platform.db, ctx.user.id, input.collectionId);
    return { ok: true as const };
  }),

  /** Draws after the fixed time only (the scheduler does it at that time); same result whoever triggers it. */
  draw: operatorProcedure
    .input(z.object({ collectionId: id }))
    .mutation(({ ctx, input }) => ctx.platform.lottery.draw(ctx.platform.db, ctx.user, input.collectionId)),

  /** The caller's standing in a drop's lottery (null when the drop sells first come, first served). */
  standing: collectorProcedure
    .input(z.object({ collectionId: id }))
    .query(({ ctx, input }) => ctx.platform.lottery.standing(ctx.platform.db, ctx.user.id, input.collectionId)),

  /** Public, so anyone can recompute the winners. */
  result: publicProcedure
    .input(z.object({ collectionId: id }))
    .query(({ ctx, input }) => ctx.platform.lottery.result(ctx.platform.db, input.collectionId)),
});
