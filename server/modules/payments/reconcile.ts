import { and, eq, gte, inArray, lt } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import {
  PaymentOperationError,
  PaymentStatementError,
  type ProviderStatement,
} from "../../providers/payments/types.js";
import { appendAudit } from "../audit/service.js";
import type { PaymentsDependencies } from "./service.js";
import { payments, refunds } from "./tables.js";

/** Reconciliation of our payments and refunds with the provider's statement of one China day. */

type StatementRow = ProviderStatement["rows"][number];

export interface Mismatch {
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
}

/** Trades paid there but not here, paid here but missing there, amounts that differ. */
function compareTrades(
  ours: readonly { outTradeNo: string; amountFen: number }[],
  theirs: readonly StatementRow[],
  mismatches: Mismatch[],
) {
  const oursByTrade = new Map(ours.map((p) => [p.outTradeNo, p]));
  const theirsByTrade = new Map(theirs.map((row) => [row.outTradeNo, row]));
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
}

/** Each refund line against our refunds confirmed that day (by refund number, else by trade). */
function compareRefunds(
  ourRefunds: readonly { refundNo: string; amountFen: number; outTradeNo: string }[],
  theirRefunds: readonly StatementRow[],
  mismatches: Mismatch[],
) {
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
}

/**
 * Compares the provider's statement of one China day with our payments:
 * trades paid there but not here, paid here but missing there, amounts that
 * differ; and the same for refunds confirmed that day.
 */
export async function reconcile(
  deps: PaymentsDependencies,
  db: Db,
  statement: ProviderStatement,
  day: string,
  actor: ReconcileActor = SYSTEM,
) {
  const start = new Date(`${day}T00:00:00+08:00`);
  const end = new Date(start.getTime() + 86_400_000);
  const ours = await db
    .select()
    .from(payments)
    .where(and(gte(payments.paidAt, start), lt(payments.paidAt, end), inArray(payments.status, ["paid", "refunded"])));
  const theirs = statement.rows.filter((row) => row.kind === "trade");
  const mismatches: Mismatch[] = [];
  compareTrades(ours, theirs, mismatches);
  const ourRefunds = await db
    .select({ refundNo: refunds.refundNo, amountFen: refunds.amountFen, outTradeNo: payments.outTradeNo })
    .from(refunds)
    .innerJoin(payments, eq(payments.orderId, refunds.orderId))
    .where(and(eq(refunds.status, "succeeded"), gte(refunds.completedAt, start), lt(refunds.completedAt, end)));
  const theirRefunds = statement.rows.filter((row) => row.kind === "refund");
  compareRefunds(ourRefunds, theirRefunds, mismatches);
  await appendAudit(
    db,
    {
      actor,
      action: "payments.reconciled",
      subject: { type: "statement", id: day },
      details: {
        provider: deps.provider.name,
        trades: theirs.length,
        payments: ours.length,
        refunds: theirRefunds.length,
        mismatches: mismatches.length,
      },
    },
    deps.clock(),
  );
  return { day, trades: theirs.length, payments: ours.length, refunds: theirRefunds.length, mismatches };
}

/**
 * Fetches the provider's statement of one China day and reconciles it (the
 * operator's action and the scheduled job alike). A statement that cannot
 * be had is a clear refusal, with a reason safe to show an operator.
 */
export async function reconcileDay(deps: PaymentsDependencies, db: Db, day: string, actor: ReconcileActor = SYSTEM) {
  const { provider } = deps;
  if (provider.statement === undefined) throw new AppError("payments.statementUnavailable");
  // A day that has not ended has no final statement: today and later are refused before asking the provider.
  const end = new Date(`${day}T00:00:00+08:00`).getTime() + 86_400_000;
  if (end > deps.clock().getTime()) throw new AppError("payments.dayNotEnded", { day });
  let statement;
  try {
    statement = await provider.statement(day);
  } catch (error) {
    if (error instanceof PaymentStatementError) {
      if (error.reason === "not-ready") throw new AppError("payments.statementNotReady", { day });
      throw new AppError("payments.statementFailed", { reason: error.reason });
    }
    if (error instanceof PaymentOperationError) throw new AppError("payments.statementFailed", { reason: error.code });
    throw new AppError("payments.statementFailed", { reason: "unavailable" });
  }
  return reconcile(deps, db, statement, day, actor);
}

/** Who reconciled: the scheduled job (system) or the operator who asked. */
export interface ReconcileActor {
  userId: number | null;
  role: "system" | "operator";
}

const SYSTEM: ReconcileActor = { userId: null, role: "system" };
