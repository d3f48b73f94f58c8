import { eq } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import {
  type NotificationAnswer,
  type PaymentNotification,
  PaymentNotificationError,
} from "../../providers/payments/types.js";
import { appendAudit } from "../audit/service.js";
import type { OrderRow } from "../drops/service.js";
import { LATE_PAYMENT_REASON, type RefundRequest, requestRefund } from "./refunds.js";
import type { NotificationOutcome, PaymentAlert, PaymentsDependencies } from "./service.js";
import { paymentNotifications, payments, refunds } from "./tables.js";

/**
 * The provider's notifications (payments and refunds), trusted only after the provider's signature and app
 * id check out, and then only if they name an order we issued, for exactly its amount. Handling is
 * idempotent: a replay finds the payment already applied.
 */

type Applied = { result: NotificationOutcome; refund?: RefundRequest; alert?: PaymentAlert };
type PaymentRow = typeof payments.$inferSelect;

/** An operator alert's audit entry, in the notification's transaction; the metric is counted once it commits. */
async function auditAlert(
  deps: PaymentsDependencies,
  tx: Db,
  alert: PaymentAlert,
  notification: PaymentNotification,
  details: Record<string, unknown>,
) {
  await appendAudit(
    tx,
    {
      actor: { userId: null, role: "system" },
      action: "payments.alert",
      subject: { type: "order", id: notification.outTradeNo },
      details: {
        alert,
        provider: notification.provider,
        kind: notification.kind,
        notifyId: notification.notifyId,
        ...details,
      },
    },
    deps.clock(),
  );
}

/** A payment arrived for a pending payment: the order becomes paid and gets its mint job, or (late) its refund. */
async function applyPaid(
  deps: PaymentsDependencies,
  tx: Db,
  notification: PaymentNotification,
  payment: PaymentRow,
  order: OrderRow,
): Promise<Applied> {
  if (payment.status !== "pending") return { result: { outcome: "duplicate", kind: "paid" } };
  await tx
    .update(payments)
    .set({ status: "paid", tradeNo: notification.tradeNo, paidAt: notification.occurredAt })
    .where(eq(payments.id, payment.id));
  const applied = await deps.drops.markPaid(tx, order, notification.occurredAt);
  if (applied === "paid") {
    const recipient = await deps.wallets.addressOf(tx, order.userId);
    await deps.minting.enqueue(tx, {
      orderId: order.id,
      collectionId: order.collectionId,
      recipient: recipient!,
      quantity: order.quantity,
    });
    return { result: { outcome: "applied", kind: "paid" } };
  }
  if (applied === "late") {
    const refund = await requestRefund(deps, tx, {
      orderId: order.id,
      outTradeNo: order.orderNo,
      amountFen: payment.amountFen,
      reason: LATE_PAYMENT_REASON,
      kind: "late-payment",
      auditReason: "late-payment",
      actor: { userId: null, role: "system" },
    });
    return { result: { outcome: "applied", kind: "paid" }, ...(refund === null ? {} : { refund }) };
  }
  return { result: { outcome: "duplicate", kind: "paid" } };
}

/**
 * The provider reports a refund. It completes ours only when it names our refund number (when the provider
 * gives one) for exactly our amount: a refund of part of it (Alipay's `refund_fee` is the trade's running
 * total, WeChat Pay's the one refund's) is recorded as `partial`, and one under another number as foreign;
 * both leave the order paid and alert an operator. A trade refunded at the provider that we never asked to
 * refund is refused and alerted.
 */
async function applyRefunded(
  deps: PaymentsDependencies,
  tx: Db,
  notification: PaymentNotification,
  payment: PaymentRow,
  order: OrderRow,
): Promise<Applied> {
  const [refund] = await tx.select().from(refunds).where(eq(refunds.orderId, order.id)).for("update");
  const reported = { refundNo: notification.refundNo ?? null, refundFen: notification.refundFen ?? null };
  if (refund === undefined) {
    await auditAlert(deps, tx, "refunded-at-provider", notification, reported);
    return { result: { outcome: "refused", reason: "refund-not-requested" }, alert: "refunded-at-provider" };
  }
  if (refund.status === "succeeded") return { result: { outcome: "duplicate", kind: "refunded" } };
  // A trade query says "refunded" without the refund's number or amount: only the refund's own notice completes it.
  if (notification.refundFen === undefined) return { result: { outcome: "refused", reason: "refund-unconfirmed" } };
  if (notification.refundNo !== undefined && notification.refundNo !== refund.refundNo) {
    await auditAlert(deps, tx, "refund-foreign", notification, { ...reported, ours: refund.refundNo });
    return { result: { outcome: "refused", reason: "refund-foreign" }, alert: "refund-foreign" };
  }
  if (notification.refundFen !== refund.amountFen) {
    if (refund.status === "partial" && refund.reportedFen === notification.refundFen)
      return { result: { outcome: "duplicate", kind: "refund-partial" } };
    await tx
      .update(refunds)
      .set({ status: "partial", reportedFen: notification.refundFen })
      .where(eq(refunds.id, refund.id));
    await auditAlert(deps, tx, "refund-partial", notification, { ...reported, oursFen: refund.amountFen });
    return { result: { outcome: "applied", kind: "refund-partial" }, alert: "refund-partial" };
  }
  await tx
    .update(refunds)
    .set({ status: "succeeded", completedAt: notification.occurredAt, reportedFen: null })
    .where(eq(refunds.id, refund.id));
  await tx.update(payments).set({ status: "refunded" }).where(eq(payments.id, payment.id));
  await deps.drops.markRefunded(tx, order, refund.reason);
  return { result: { outcome: "applied", kind: "refunded" } };
}

/** Applies one trusted notification in one transaction. */
async function apply(deps: PaymentsDependencies, db: Db, notification: PaymentNotification): Promise<Applied> {
  return db.transaction(async (tx) => {
    const [payment] = await tx
      .select()
      .from(payments)
      .where(eq(payments.outTradeNo, notification.outTradeNo))
      .for("update");
    if (payment === undefined) return { result: { outcome: "refused", reason: "unknown-order" } };
    if (notification.amountFen !== payment.amountFen) {
      // Signed by the provider, yet not our amount: our record or theirs is wrong; an operator must look.
      await auditAlert(deps, tx, "amount-mismatch", notification, {
        oursFen: payment.amountFen,
        theirsFen: notification.amountFen,
      });
      return { result: { outcome: "refused", reason: "amount-mismatch" }, alert: "amount-mismatch" };
    }
    const order = await deps.drops.lockOrder(tx, payment.orderId);
    if (notification.kind === "paid") return applyPaid(deps, tx, notification, payment, order);
    if (notification.kind === "refunded") return applyRefunded(deps, tx, notification, payment, order);
    return { result: { outcome: "applied", kind: notification.kind } };
  });
}

export function createNotifications(deps: PaymentsDependencies, startRefund: (refund: RefundRequest) => Promise<void>) {
  const { provider } = deps;

  async function logNotification(
    db: Db,
    entry: { notification?: PaymentNotification; outcome: "applied" | "duplicate" | "refused"; reason?: string },
  ) {
    await db.insert(paymentNotifications).values({
      provider: provider.name,
      notifyId: entry.notification?.notifyId ?? null,
      outTradeNo: entry.notification?.outTradeNo ?? null,
      kind: entry.notification?.kind ?? null,
      outcome: entry.outcome,
      reason: entry.reason ?? "",
      receivedAt: deps.clock(),
    });
  }

  return {
    /** Verifies, applies and logs one raw notification; returns what the provider expects as the answer. */
    async handleNotification(
      db: Db,
      headers: Record<string, string | undefined>,
      rawBody: string,
    ): Promise<{ answer: NotificationAnswer; result: NotificationOutcome }> {
      let notification: PaymentNotification;
      try {
        notification = provider.parseNotification(headers, rawBody, deps.clock());
      } catch (error) {
        if (!(error instanceof PaymentNotificationError)) throw error;
        await logNotification(db, { outcome: "refused", reason: error.reason });
        if (error.reason === "app-id" || error.reason === "seller-id") {
          // Signed by the provider, yet for another app, merchant or seller: a misrouted or replayed notice.
          await appendAudit(
            db,
            {
              actor: { userId: null, role: "system" },
              action: "payments.alert",
              subject: { type: "provider", id: provider.name },
              details: { alert: "merchant-mismatch", reason: error.reason },
            },
            deps.clock(),
          );
          deps.onAlert?.("merchant-mismatch");
        }
        return { answer: provider.answer(false), result: { outcome: "refused", reason: error.reason } };
      }
      const { result, refund, alert } = await apply(deps, db, notification);
      if (alert !== undefined) deps.onAlert?.(alert);
      await logNotification(db, {
        notification,
        outcome: result.outcome,
        ...(result.outcome === "refused" ? { reason: result.reason } : {}),
      });
      if (refund !== undefined) await startRefund(refund);
      return { answer: provider.answer(result.outcome !== "refused"), result };
    },

    /**
     * Asks the provider about an order's trade and applies the answer like a
     * notification: for late or lost notifications, and before giving up on an order.
     */
    async syncWithProvider(db: Db, orderNo: string): Promise<NotificationOutcome | null> {
      const answer = await provider.queryOrder(orderNo);
      if (answer === null) return null;
      const { result, refund, alert } = await apply(deps, db, answer);
      if (alert !== undefined) deps.onAlert?.(alert);
      if (refund !== undefined) await startRefund(refund);
      return result;
    },
  };
}
