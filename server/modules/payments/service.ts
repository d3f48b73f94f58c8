import { and, eq, gte, inArray, lt, lte } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { orders } from "../drops/tables.js";
import { mintJobs } from "../minting/tables.js";
import { paymentNotifications, payments, refunds } from "./tables.js";
import { AppError } from "../../errors.js";
import {
  type NotificationAnswer,
  type PaymentNotification,
  PaymentNotificationError,
  PaymentOperationError,
  type PaymentProvider,
  PaymentStatementError,
  type ProviderStatement,
} from "../../providers/payments/types.js";
import { appendAudit } from "../audit/service.js";
import type { DropsService } from "../drops/service.js";
import type { MintingService } from "../minting/service.js";
import type { SessionUser } from "../identity/service.js";
import type { WalletService } from "../wallets/service.js";

/**
 * Fiat payments, provider-agnostic. A notification is trusted only after the
 * provider's signature and app id check out, and then only if it names an
 * order we issued, for exactly its amount. Handling is idempotent: a replay
 * finds the payment already applied. A paid order writes its mint job in the
 * same transaction; a payment that arrives after the order expired is
 * refunded automatically.
 */

export interface PaymentsDependencies {
  provider: PaymentProvider;
  drops: DropsService;
  wallets: WalletService;
  minting: MintingService;
  clock: () => Date;
  publicOrigin: string;
}

export type NotificationOutcome =
  { outcome: "applied" | "duplicate"; kind: PaymentNotification["kind"] } | { outcome: "refused"; reason: string };

/** A refund's number, derived from its order's: one refund per order. */
function refundNoOf(orderNo: string): string {
  return `RF${orderNo.slice(2)}`;
}

export function createPaymentsService(deps: PaymentsDependencies) {
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

  async function startRefund(refund: { outTradeNo: string; refundNo: string; refundFen: number; totalFen: number }) {
    // The provider answers the refund with a notification. A failure here, or a crash between the
    // transaction that requested the refund and this call, is made good by `resumeRefunds`.
    await provider.refund(refund).catch(() => undefined);
  }

  async function apply(
    db: Db,
    notification: PaymentNotification,
  ): Promise<{ result: NotificationOutcome; refund?: Parameters<typeof startRefund>[0] }> {
    return db.transaction(async (tx) => {
      const [payment] = await tx
        .select()
        .from(payments)
        .where(eq(payments.outTradeNo, notification.outTradeNo))
        .for("update");
      if (payment === undefined) return { result: { outcome: "refused", reason: "unknown-order" } };
      if (notification.amountFen !== payment.amountFen)
        return { result: { outcome: "refused", reason: "amount-mismatch" } };
      const order = await deps.drops.lockOrder(tx, payment.orderId);

      if (notification.kind === "paid") {
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
          const refundNo = refundNoOf(order.orderNo);
          await tx
            .insert(refunds)
            .values({
              orderId: order.id,
              refundNo,
              amountFen: payment.amountFen,
              reason: "paid after the order expired",
              createdAt: deps.clock(),
            })
            .onConflictDoNothing();
          await appendAudit(
            tx,
            {
              actor: { userId: null, role: "system" },
              action: "refund.requested",
              subject: { type: "order", id: order.orderNo },
              details: { refundNo, amountFen: payment.amountFen, reason: "late-payment" },
            },
            deps.clock(),
          );
          return {
            result: { outcome: "applied", kind: "paid" },
            refund: {
              outTradeNo: payment.outTradeNo,
              refundNo,
              refundFen: payment.amountFen,
              totalFen: payment.amountFen,
            },
          };
        }
        return { result: { outcome: "duplicate", kind: "paid" } };
      }

      if (notification.kind === "refunded") {
        const [refund] = await tx.select().from(refunds).where(eq(refunds.orderId, order.id)).for("update");
        if (refund === undefined) return { result: { outcome: "refused", reason: "refund-not-requested" } };
        if (refund.status === "succeeded") return { result: { outcome: "duplicate", kind: "refunded" } };
        await tx
          .update(refunds)
          .set({ status: "succeeded", completedAt: notification.occurredAt })
          .where(eq(refunds.id, refund.id));
        await tx.update(payments).set({ status: "refunded" }).where(eq(payments.id, payment.id));
        await deps.drops.markRefunded(tx, order, refund.reason);
        return { result: { outcome: "applied", kind: "refunded" } };
      }
      return { result: { outcome: "applied", kind: notification.kind } };
    });
  }

  const service = {
    /** The cashier for an order the collector holds: created once, then the same intent again. */
    async createIntent(db: Db, userId: number, orderNo: string) {
      const order = await deps.drops.order(db, userId, orderNo);
      if (order.status !== "created" || order.expiresAt <= deps.clock())
        throw new AppError("order.wrongState", { status: order.status });
      const [existing] = await db.select().from(payments).where(eq(payments.orderId, order.id));
      if (existing !== undefined) return existing;
      const intent = await provider.createIntent({
        outTradeNo: order.orderNo,
        amountFen: order.amountFen,
        subject: `数字藏品订单 ${order.orderNo}`,
        expiresAt: order.expiresAt,
        notifyUrl: `${deps.publicOrigin}/pay/notify/${provider.name}`,
      });
      await db
        .insert(payments)
        .values({
          orderId: order.id,
          provider: provider.name,
          outTradeNo: order.orderNo,
          amountFen: order.amountFen,
          qrCode: intent.qrCode,
          cashierPath: intent.cashierPath ?? null,
        })
        .onConflictDoNothing();
      const [row] = await db.select().from(payments).where(eq(payments.orderId, order.id));
      return row!;
    },

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
        return { answer: provider.answer(false), result: { outcome: "refused", reason: error.reason } };
      }
      const { result, refund } = await apply(db, notification);
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
      const { result, refund } = await apply(db, answer);
      if (refund !== undefined) await startRefund(refund);
      return result;
    },

    /**
     * Before unpaid orders expire: asks the provider about each one that has a
     * cashier open (a payment whose notification is late is applied, not lost),
     * closes the trades still unpaid, then lets the drops module expire them.
     */
    async settleExpiring(db: Db): Promise<{ paidLate: number; expired: number }> {
      const due = await db
        .select({ orderNo: orders.orderNo })
        .from(orders)
        .innerJoin(payments, eq(payments.orderId, orders.id))
        .where(and(eq(orders.status, "created"), lte(orders.expiresAt, deps.clock()), eq(payments.status, "pending")))
        .limit(200);
      let paidLate = 0;
      for (const { orderNo } of due) {
        const found = await this.syncWithProvider(db, orderNo).catch(() => null);
        if (found?.outcome === "applied") paidLate++;
        else await provider.closeOrder(orderNo).catch(() => undefined);
      }
      return { paidLate, expired: await deps.drops.expireDue(db) };
    },

    /**
     * Compares the provider's statement of one China day with our payments:
     * trades paid there but not here, paid here but missing there, amounts that
     * differ; and the same for refunds confirmed that day.
     */
    async reconcile(db: Db, statement: ProviderStatement, day: string) {
      const start = new Date(`${day}T00:00:00+08:00`);
      const end = new Date(start.getTime() + 86_400_000);
      const ours = await db
        .select()
        .from(payments)
        .where(
          and(gte(payments.paidAt, start), lt(payments.paidAt, end), inArray(payments.status, ["paid", "refunded"])),
        );
      const theirs = statement.rows.filter((row) => row.kind === "trade");
      const oursByTrade = new Map(ours.map((p) => [p.outTradeNo, p]));
      const theirsByTrade = new Map(theirs.map((row) => [row.outTradeNo, row]));
      const mismatches: {
        outTradeNo: string;
        problem:
          | "missing-here"
          | "missing-there"
          | "amount-differs"
          | "refund-missing-here"
          | "refund-missing-there"
          | "refund-amount-differs";
        ourFen?: number;
        theirFen?: number;
      }[] = [];
      for (const row of theirs) {
        const payment = oursByTrade.get(row.outTradeNo);
        if (payment === undefined)
          mismatches.push({ outTradeNo: row.outTradeNo, problem: "missing-here", theirFen: row.amountFen });
        else if (payment.amountFen !== row.amountFen) {
          mismatches.push({
            outTradeNo: row.outTradeNo,
            problem: "amount-differs",
            ourFen: payment.amountFen,
            theirFen: row.amountFen,
          });
        }
      }
      for (const payment of ours) {
        if (!theirsByTrade.has(payment.outTradeNo)) {
          mismatches.push({ outTradeNo: payment.outTradeNo, problem: "missing-there", ourFen: payment.amountFen });
        }
      }
      // Refunds: each refund line against our refunds confirmed that day (by refund number, else by trade).
      const ourRefunds = await db
        .select({ refundNo: refunds.refundNo, amountFen: refunds.amountFen, outTradeNo: payments.outTradeNo })
        .from(refunds)
        .innerJoin(payments, eq(payments.orderId, refunds.orderId))
        .where(and(eq(refunds.status, "succeeded"), gte(refunds.completedAt, start), lt(refunds.completedAt, end)));
      const theirRefunds = statement.rows.filter((row) => row.kind === "refund");
      const refundKey = (refund: { refundNo?: string | undefined; outTradeNo: string }) =>
        refund.refundNo ?? `trade:${refund.outTradeNo}`;
      const ourRefundsByKey = new Map(ourRefunds.map((r) => [r.refundNo, r]));
      const ourRefundsByTrade = new Map(ourRefunds.map((r) => [`trade:${r.outTradeNo}`, r]));
      const matched = new Set<string>();
      for (const row of theirRefunds) {
        const ourRefund = ourRefundsByKey.get(refundKey(row)) ?? ourRefundsByTrade.get(`trade:${row.outTradeNo}`);
        if (ourRefund === undefined) {
          mismatches.push({ outTradeNo: row.outTradeNo, problem: "refund-missing-here", theirFen: row.refundFen });
          continue;
        }
        matched.add(ourRefund.refundNo);
        if (ourRefund.amountFen !== row.refundFen) {
          mismatches.push({
            outTradeNo: row.outTradeNo,
            problem: "refund-amount-differs",
            ourFen: ourRefund.amountFen,
            theirFen: row.refundFen,
          });
        }
      }
      for (const ourRefund of ourRefunds) {
        if (!matched.has(ourRefund.refundNo)) {
          mismatches.push({
            outTradeNo: ourRefund.outTradeNo,
            problem: "refund-missing-there",
            ourFen: ourRefund.amountFen,
          });
        }
      }
      await appendAudit(
        db,
        {
          actor: { userId: null, role: "system" },
          action: "payments.reconciled",
          subject: { type: "statement", id: day },
          details: {
            provider: provider.name,
            trades: theirs.length,
            payments: ours.length,
            refunds: theirRefunds.length,
            mismatches: mismatches.length,
          },
        },
        deps.clock(),
      );
      return { day, trades: theirs.length, payments: ours.length, refunds: theirRefunds.length, mismatches };
    },

    /**
     * Refunds an order whose delivery failed for good (its job is parked), in the
     * caller's transaction; the provider is asked once the transaction commits.
     * Free orders (airdrops) have nothing to refund.
     */
    async requestRefundForFailedDelivery(tx: Db, orderId: number, reason: string) {
      const [payment] = await tx.select().from(payments).where(eq(payments.orderId, orderId));
      if (payment === undefined || payment.status !== "paid") return null;
      const refundNo = refundNoOf(payment.outTradeNo);
      const inserted = await tx
        .insert(refunds)
        .values({
          orderId,
          refundNo,
          amountFen: payment.amountFen,
          reason: `delivery failed: ${reason}`,
          createdAt: deps.clock(),
        })
        .onConflictDoNothing()
        .returning();
      if (inserted.length === 0) return null;
      await appendAudit(
        tx,
        {
          actor: { userId: null, role: "system" },
          action: "refund.requested",
          subject: { type: "order", id: payment.outTradeNo },
          details: { refundNo, amountFen: payment.amountFen, reason: "delivery-failed" },
        },
        deps.clock(),
      );
      return { outTradeNo: payment.outTradeNo, refundNo, refundFen: payment.amountFen, totalFen: payment.amountFen };
    },

    /** Asks the provider for refunds requested in committed transactions. */
    startRefund,

    /**
     * Asks the provider again for every refund requested more than `olderThanMs`
     * ago and not yet confirmed: the request may never have left (the process
     * died right after committing it, or the provider was unreachable). The
     * refund number is the provider's idempotency key, so asking twice refunds once.
     */
    async resumeRefunds(db: Db, olderThanMs = 30_000): Promise<number> {
      const due = await db
        .select({
          refundNo: refunds.refundNo,
          refundFen: refunds.amountFen,
          outTradeNo: payments.outTradeNo,
          totalFen: payments.amountFen,
        })
        .from(refunds)
        .innerJoin(payments, eq(payments.orderId, refunds.orderId))
        .where(
          and(eq(refunds.status, "requested"), lte(refunds.createdAt, new Date(deps.clock().getTime() - olderThanMs))),
        )
        .limit(100);
      for (const refund of due) await startRefund(refund);
      return due.length;
    },

    /**
     * An operator refunds a paid order that has not been delivered. Its mint job
     * is taken out of the pipeline in the same transaction (parked), so the
     * order cannot be both minted and refunded; once the job is in a batch on
     * its way to the chain, the order is past refunding here.
     */
    async refund(db: Db, operator: Pick<SessionUser, "id" | "role">, orderNo: string, reason: string) {
      const order = await deps.drops.orderByNo(db, orderNo);
      if (order === undefined) throw new AppError("order.notFound");
      if (order.status !== "paid") throw new AppError("order.wrongState", { status: order.status });
      const refundNo = refundNoOf(orderNo);
      await db
        .transaction(async (tx) => {
          // The job first, then the order: the order in which the mint worker locks them.
          const [job] = await tx
            .select({ id: mintJobs.id, status: mintJobs.status })
            .from(mintJobs)
            .where(eq(mintJobs.orderId, order.id))
            .for("update");
          const [current] = await tx
            .select({ status: orders.status })
            .from(orders)
            .where(eq(orders.id, order.id))
            .for("update");
          if (current?.status !== "paid")
            throw new AppError("order.wrongState", { status: current?.status ?? "unknown" });
          if (job !== undefined && job.status !== "pending" && job.status !== "parked")
            throw new AppError("order.wrongState", { status: "minting" });
          if (job?.status === "pending") {
            await tx
              .update(mintJobs)
              .set({ status: "parked", parkedReason: "refund requested by an operator" })
              .where(eq(mintJobs.id, job.id));
          }
          await tx.insert(refunds).values({
            orderId: order.id,
            refundNo,
            amountFen: order.amountFen,
            reason,
            requestedBy: operator.id,
            createdAt: deps.clock(),
          });
          await appendAudit(
            tx,
            {
              actor: { userId: operator.id, role: operator.role },
              action: "refund.requested",
              subject: { type: "order", id: orderNo },
              details: { refundNo, amountFen: order.amountFen, reason },
            },
            deps.clock(),
          );
        })
        .catch((error: unknown) => {
          // One refund per order: a second request for the same order is refused.
          throw violatedUniqueConstraint(error) === undefined
            ? error
            : new AppError("order.wrongState", { status: "refunding" });
        });
      await startRefund({ outTradeNo: orderNo, refundNo, refundFen: order.amountFen, totalFen: order.amountFen });
      return { refundNo };
    },

    /**
     * Fetches the provider's statement of one China day and reconciles it (the
     * operator's action and the scheduled job alike). A statement that cannot
     * be had is a clear refusal, with a reason safe to show an operator.
     */
    async reconcileDay(db: Db, day: string) {
      if (provider.statement === undefined) throw new AppError("payments.statementUnavailable");
      let statement;
      try {
        statement = await provider.statement(day);
      } catch (error) {
        if (error instanceof PaymentStatementError) {
          if (error.reason === "not-ready") throw new AppError("payments.statementNotReady", { day });
          throw new AppError("payments.statementFailed", { reason: error.reason });
        }
        if (error instanceof PaymentOperationError)
          throw new AppError("payments.statementFailed", { reason: error.code });
        throw new AppError("payments.statementFailed", { reason: "unavailable" });
      }
      return service.reconcile(db, statement, day);
    },
  };
  return service;
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
