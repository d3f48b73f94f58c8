import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import { collectorProcedure, operatorProcedure, router } from "../../trpc/init.js";

const orderNo = safe.pattern(/^SZ\d{8}[0-9A-F]{12}$/, "order.notFound", "SZ20261124000000000000");

/** A calendar date "YYYY-MM-DD" that exists (no 2026-02-30). */
const chinaDay = safe.dayText("payments.dayInvalid");

export const paymentsRouter = router({
  /** The cashier of an unpaid order: what its QR code encodes (and the sandbox's local cashier page). */
  createIntent: collectorProcedure.input(z.object({ orderNo })).mutation(async ({ ctx, input }) => {
    const payment = await ctx.platform.payments.createIntent(ctx.platform.db, ctx.user.id, input.orderNo);
    return {
      provider: payment.provider,
      orderNo: payment.outTradeNo,
      amountFen: payment.amountFen,
      qrCode: payment.qrCode,
      cashierPath: payment.cashierPath,
      status: payment.status,
    };
  }),

  /** Compares a day's provider statement (trade bill) with our payments and lists the mismatches. */
  reconcile: operatorProcedure
    .input(z.object({ day: chinaDay }))
    .mutation(({ ctx, input }) =>
      ctx.platform.payments.reconcileDay(ctx.platform.db, input.day, { userId: ctx.user.id, role: "operator" }),
    ),

  /** An operator refunds a paid order before delivery (audited). */
  refund: operatorProcedure
    .input(z.object({ orderNo, reason: safe.text({ min: 2, max: 200 }) }))
    .mutation(({ ctx, input }) => ctx.platform.payments.refund(ctx.platform.db, ctx.user, input.orderNo, input.reason)),
});
