import { z } from "zod";

import { AppError } from "../../errors.js";
import { parseAlipayStatement } from "../../providers/payments/sandbox.js";
import { collectorProcedure, operatorProcedure, router } from "../../trpc/init.js";

const orderNo = z.string().regex(/^SZ\d{8}[0-9A-F]{12}$/, "order.notFound");

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

  /** Compares a day's provider statement with our payments and lists the mismatches (sandbox statements today). */
  reconcile: operatorProcedure
    .input(z.object({ day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/) }))
    .mutation(async ({ ctx, input }) => {
      const sandbox = ctx.platform.sandboxPayments;
      if (sandbox === null) throw new AppError("payments.statementUnavailable");
      const statement = parseAlipayStatement(sandbox.statement(input.day));
      return ctx.platform.payments.reconcile(ctx.platform.db, statement, input.day);
    }),

  /** An operator refunds a paid order before delivery (audited). */
  refund: operatorProcedure
    .input(z.object({ orderNo, reason: z.string().trim().min(2).max(200) }))
    .mutation(({ ctx, input }) => ctx.platform.payments.refund(ctx.platform.db, ctx.user, input.orderNo, input.reason)),
});
