import { and, eq, inArray, lte } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { AppError } from "../../errors.js";
import { type AuditEvent, appendAudit } from "../audit/service.js";
import type { SessionUser } from "../identity/service.js";
import type { PaymentsDependencies } from "./service.js";
import { payments, refunds } from "./tables.js";

/**
 * Refunds: requested in a transaction (one per order, audited), asked of the provider once it has committed,
 * and asked again when the request may never have left.
 */

/** What the provider is asked for a refund. */
export type RefundRequest = { outTradeNo: string; refundNo: string; refundFen: number; totalFen: number };

/** A refund's number, derived from its order's: one refund per order. */
function refundNoOf(orderNo: string): string {
  return `RF${orderNo.slice(2)}`;
}

/** Why an order was refunded, as its buyer is told (never the operator's own words). */
export type RefundKind = "takedown" | "operator" | "delivery-failed" | "late-payment";

/**
 * The one refund of an order as its buyer may see it: `requested` (asked of the provider, not confirmed),
 * `refunded` (the provider confirmed our amount) or `partial` (the provider reported less; an operator is
 * alerted). `refundedFen` is what the provider confirmed; `reasonCode` is the takedown's category (the
 * on-chain reason code) when the refund came from a takedown.
 */
export type OrderRefund = {
  status: "requested" | "refunded" | "partial";
  amountFen: number;
  refundedFen: number;
  kind: RefundKind;
  reasonCode: number | null;
};

const DELIVERY_FAILED_REASON = "delivery failed: ";
export const LATE_PAYMENT_REASON = "paid after the order expired";

/**
 * The refunds of the given orders (at most one each), by order id; orders without one are absent. The
 * caller answers for whose orders these are (the drops module asks only for the caller's own).
 */
export async function refundsOfOrders(db: Db, orderIds: readonly number[]): Promise<Map<number, OrderRefund>> {
  const found = new Map<number, OrderRefund>();
  if (orderIds.length === 0) return found;
  const rows = await db
    .select({
      orderId: refunds.orderId,
      status: refunds.status,
      amountFen: refunds.amountFen,
      reportedFen: refunds.reportedFen,
      kind: refunds.kind,
      reasonCode: refunds.reasonCode,
    })
    .from(refunds)
    .where(inArray(refunds.orderId, [...new Set(orderIds)]));
  for (const row of rows) {
    const status = row.status === "succeeded" ? "refunded" : row.status;
    const refundedFen = status === "refunded" ? row.amountFen : status === "partial" ? (row.reportedFen ?? 0) : 0;
    found.set(row.orderId, {
      status,
      amountFen: row.amountFen,
      refundedFen,
      kind: row.kind,
      reasonCode: row.reasonCode,
    });
  }
  return found;
}

/**
 * Records the refund of an order's payment and its audit entry, in the caller's transaction: the one way a
 * refund is requested (a late payment, a failed delivery, an operator). Returns what to ask the provider once
 * the transaction commits, or null when the order has its refund already.
 */
export async function requestRefund(
  deps: Pick<PaymentsDependencies, "clock">,
  tx: Db,
  request: {
    orderId: number;
    outTradeNo: string;
    amountFen: number;
    /** The trade's whole amount when the refund is a part of it (a takedown of one edition of several). */
    totalFen?: number;
    /** Kept with the refund. */
    reason: string;
    /** Why, as the buyer is told; a takedown's also carries its category (the on-chain reason code). */
    kind: RefundKind;
    reasonCode?: number;
    /** The audit entry's reason. */
    auditReason: string;
    actor: AuditEvent["actor"];
    requestedBy?: number;
  },
): Promise<RefundRequest | null> {
  const { orderId, outTradeNo, amountFen, reason, kind, reasonCode, requestedBy } = request;
  const refundNo = refundNoOf(outTradeNo);
  const inserted = await tx
    .insert(refunds)
    .values({
      orderId,
      refundNo,
      amountFen,
      reason,
      kind,
      reasonCode: reasonCode ?? null,
      ...(requestedBy === undefined ? {} : { requestedBy }),
      createdAt: deps.clock(),
    })
    .onConflictDoNothing()
    .returning({ id: refunds.id });
  if (inserted.length === 0) return null;
  await appendAudit(
    tx,
    {
      actor: request.actor,
      action: "refund.requested",
      subject: { type: "order", id: outTradeNo },
      details: { refundNo, amountFen, reason: request.auditReason },
    },
    deps.clock(),
  );
  return { outTradeNo, refundNo, refundFen: amountFen, totalFen: request.totalFen ?? amountFen };
}

const SYSTEM = { userId: null, role: "system" } as const;

export function createRefunds(deps: PaymentsDependencies) {
  async function startRefund(refund: RefundRequest) {
    // The provider answers the refund with a notification. A failure here, or a crash between the
    // transaction that requested the refund and this call, is made good by `resumeRefunds`.
    await deps.provider.refund(refund).catch(() => undefined);
  }

  return {
    /** Asks the provider for refunds requested in committed transactions. */
    startRefund,

    refundsOfOrders,

    /**
     * Refunds an order whose delivery failed for good (its job is parked), in the
     * caller's transaction; the provider is asked once the transaction commits.
     * Free orders (airdrops) have nothing to refund.
     */
    async requestRefundForFailedDelivery(tx: Db, orderId: number, reason: string) {
      const [payment] = await tx.select().from(payments).where(eq(payments.orderId, orderId));
      if (payment === undefined || payment.status !== "paid") return null;
      return requestRefund(deps, tx, {
        orderId,
        outTradeNo: payment.outTradeNo,
        amountFen: payment.amountFen,
        reason: `${DELIVERY_FAILED_REASON}${reason}`,
        kind: "delivery-failed",
        auditReason: "delivery-failed",
        actor: SYSTEM,
      });
    },

    /**
     * Refunds what was paid for taken-down editions of an order (a regulator's takedown), in the caller's
     * transaction: `editions` of the order's `quantity`, at the price paid. Free orders (airdrops, ¥0) have
     * nothing to refund; an order refunded already is answered `null` (one refund per order). The provider
     * is asked once the transaction commits ({@link startRefund}); `resumeRefunds` makes up for a crash.
     */
    async requestTakedownRefund(
      tx: Db,
      request: {
        orderId: number;
        editions: number;
        quantity: number;
        /** The takedown's category, the on-chain reason code (1..6): kept with the refund for its buyer. */
        reasonCode: number;
        reason: string;
        actor: AuditEvent["actor"];
      },
    ) {
      const [payment] = await tx.select().from(payments).where(eq(payments.orderId, request.orderId));
      if (payment === undefined || payment.status !== "paid" || payment.amountFen <= 0) return null;
      const editions = Math.min(request.editions, request.quantity);
      const amountFen =
        editions >= request.quantity
          ? payment.amountFen
          : Math.floor((payment.amountFen * editions) / request.quantity);
      return requestRefund(deps, tx, {
        orderId: request.orderId,
        outTradeNo: payment.outTradeNo,
        amountFen,
        totalFen: payment.amountFen,
        reason: `takedown: ${request.reason}`,
        kind: "takedown",
        reasonCode: request.reasonCode,
        auditReason: "takedown",
        actor: request.actor,
      });
    },

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
      // Nothing was paid for a free order (an airdrop's, or a ¥0 collection's): there is nothing to refund.
      if (order.amountFen <= 0 || order.airdropId !== null) throw new AppError("payments.nothingToRefund");
      if (order.status !== "paid") throw new AppError("order.wrongState", { status: order.status });
      const refund = await db
        .transaction(async (tx) => {
          // The job first, then the order: the order in which the mint worker locks them.
          const job = await deps.minting.lockJobOf(tx, order.id);
          const current = await deps.drops.lockOrder(tx, order.id);
          if (current.status !== "paid") throw new AppError("order.wrongState", { status: current.status });
          if (job !== undefined && job.status !== "pending" && job.status !== "parked")
            throw new AppError("order.wrongState", { status: "minting" });
          if (job?.status === "pending") await deps.minting.park(tx, job.id, "refund requested by an operator");
          const requested = await requestRefund(deps, tx, {
            orderId: order.id,
            outTradeNo: orderNo,
            amountFen: order.amountFen,
            reason,
            kind: "operator",
            auditReason: reason,
            actor: { userId: operator.id, role: operator.role },
            requestedBy: operator.id,
          });
          // One refund per order: a second request for the same order is refused.
          if (requested === null) throw new AppError("order.wrongState", { status: "refunding" });
          return requested;
        })
        .catch((error: unknown) => {
          throw violatedUniqueConstraint(error) === undefined
            ? error
            : new AppError("order.wrongState", { status: "refunding" });
        });
      await startRefund(refund);
      return { refundNo: refund.refundNo };
    },
  };
}
