import { z } from "zod";

import { collectorProcedure, operatorProcedure, router } from "../../trpc/init.js";

const orderNo = z.string().regex(/^SZ\d{8}[0-9A-F]{12}$/, "order.notFound");

/** A calendar date "YYYY-MM-DD" that exists (no 2026-02-30). */
const chinaDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "payments.dayInvalid")
  .refine((day) => {
    const date = new Date(`${day}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === day;
  }, "payments.dayInvalid");

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
    .input(z.object({ orderNo, reason: z.string().trim().min(2).max(200) }))
    .mutation(({ ctx, input }) => ctx.platform.payments.refund(ctx.platform.db, ctx.user, input.orderNo, input.reason)),
});
