import { randomInt } from "node:crypto";

import { type AlipayNotificationCore, formatChinaTime } from "./alipay-notification.js";
import { formatYuan } from "./alipay-signature.js";
import type { SandboxRefund, SandboxTrade } from "./sandbox.js";
import {
  type PaymentEventKind,
  type PaymentIntent,
  type PaymentIntentRequest,
  type PaymentNotification,
  PaymentOperationError,
} from "./types.js";

/**
 * The sandbox's book of trades, kept in memory, and what the provider does
 * to it: open a trade, query it, refund it. Delivering the notifications is
 * the provider's (sandbox-delivery.ts).
 */

/** A notification's fields before its (per attempt) notify_time. */
export type PendingFields = Omit<AlipayNotificationCore, "notify_time"> & { [other: string]: string | undefined };
type TradeFields = Omit<AlipayNotificationCore, "notify_time" | "trade_status"> & {
  [other: string]: string | undefined;
};

export interface Trade extends Omit<SandboxTrade, "refunds"> {
  refunds: Map<string, SandboxRefund>;
}

export interface SandboxBook {
  readonly appId: string;
  readonly now: () => Date;
  /** Close unpaid trades once their `expiresAt` has passed (see SandboxPaymentProviderOptions). */
  readonly enforceExpiry: boolean;
  readonly trades: Map<string, Trade>;
  /** Notifications numbered so far (part of each notify_id). */
  notifications: number;
}

const OUT_TRADE_NO = /^[A-Za-z0-9_-]{1,64}$/;
/** Alipay's ceiling for one trade: 100,000,000.00 yuan. */
const MAX_AMOUNT_FEN = 10_000_000_000;

const digits = (count: number) => Array.from({ length: count }, () => randomInt(10)).join("");
export function invalid(message: string): never {
  throw new PaymentOperationError("invalid-request", message);
}

/** The trade; with `enforceExpiry`, closed once its payment window has passed unpaid. */
export function currentTrade(book: SandboxBook, outTradeNo: string): Trade | undefined {
  const trade = book.trades.get(outTradeNo);
  if (book.enforceExpiry && trade?.status === "WAIT_BUYER_PAY" && book.now().getTime() >= trade.expiresAt.getTime()) {
    trade.status = "TRADE_CLOSED";
    trade.closedAt = trade.expiresAt;
  }
  return trade;
}

/** The fields every notification about the trade carries, under a fresh notify_id. */
export function tradeFields(book: SandboxBook, trade: Trade): TradeFields {
  book.notifications++;
  const fields: TradeFields = {
    notify_type: "trade_status_sync",
    notify_id: `sbx${trade.tradeNo}${String(book.notifications).padStart(6, "0")}`,
    app_id: book.appId,
    trade_no: trade.tradeNo,
    out_trade_no: trade.outTradeNo,
    subject: trade.subject,
    total_amount: formatYuan(trade.amountFen),
    receipt_amount: formatYuan(trade.amountFen),
    buyer_pay_amount: formatYuan(trade.amountFen),
    buyer_id: trade.buyerId,
    gmt_create: formatChinaTime(trade.createdAt),
  };
  if (trade.paidAt) fields.gmt_payment = formatChinaTime(trade.paidAt);
  return fields;
}

export function snapshot(trade: Trade): SandboxTrade {
  return { ...trade, refunds: [...trade.refunds.values()].map((refund) => ({ ...refund })) };
}

function checkIntentRequest(request: PaymentIntentRequest, now: () => Date): void {
  const { outTradeNo, amountFen, subject, expiresAt, notifyUrl } = request;
  if (!OUT_TRADE_NO.test(outTradeNo)) invalid("outTradeNo must be 1-64 letters, digits, _ or -");
  if (!Number.isSafeInteger(amountFen) || amountFen <= 0 || amountFen > MAX_AMOUNT_FEN)
    invalid("amountFen must be a positive integer within Alipay's limit");
  if (subject.trim() === "" || subject.length > 256) invalid("subject must have 1-256 characters");
  if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime()) || expiresAt <= now())
    invalid("expiresAt must be a future date");
  let url: URL | undefined;
  try {
    url = new URL(notifyUrl);
  } catch {
    invalid("notifyUrl must be an absolute URL");
  }
  if (url?.protocol !== "http:" && url?.protocol !== "https:") invalid("notifyUrl must be http(s)");
}

/** Opens a trade awaiting payment (or gives the same code for the same trade asked again). */
export function openTrade(book: SandboxBook, request: PaymentIntentRequest): PaymentIntent {
  checkIntentRequest(request, book.now);
  const { outTradeNo, amountFen, subject, expiresAt, notifyUrl } = request;
  const intent: PaymentIntent = {
    provider: "sandbox",
    outTradeNo,
    qrCode: `sandbox://pay/${outTradeNo}`,
    cashierPath: `/pay/sandbox/cashier/${outTradeNo}`,
  };
  const existing = currentTrade(book, outTradeNo);
  if (existing) {
    // Asking again for the same trade gives the same code, as Alipay's precreate does.
    if (
      existing.status === "WAIT_BUYER_PAY" &&
      existing.amountFen === amountFen &&
      existing.subject === subject &&
      existing.notifyUrl === notifyUrl
    )
      return intent;
    throw new PaymentOperationError("conflict", `Trade ${outTradeNo} already exists (${existing.status})`);
  }
  const createdAt = book.now();
  book.trades.set(outTradeNo, {
    outTradeNo,
    tradeNo: `${formatChinaTime(createdAt).slice(0, 10).replaceAll("-", "")}22001${digits(15)}`,
    subject,
    amountFen,
    notifyUrl,
    buyerId: `2088${digits(12)}`,
    createdAt,
    expiresAt: new Date(expiresAt.getTime()),
    status: "WAIT_BUYER_PAY",
    refundedFen: 0,
    refunds: new Map(),
  });
  return intent;
}

/** What the book says of a trade once it is settled (paid, refunded or closed); null while it awaits payment. */
export function queryTrade(book: SandboxBook, outTradeNo: string): PaymentNotification | null {
  const trade = currentTrade(book, outTradeNo);
  if (!trade || trade.status === "WAIT_BUYER_PAY") return null;
  const refunds = [...trade.refunds.values()];
  const lastRefund = refunds.at(-1);
  const kind: PaymentEventKind =
    trade.refundedFen > 0 ? "refunded" : trade.status === "TRADE_SUCCESS" ? "paid" : "closed";
  const notification: PaymentNotification = {
    provider: "sandbox",
    kind,
    appId: book.appId,
    outTradeNo,
    tradeNo: trade.tradeNo,
    amountFen: trade.amountFen,
    occurredAt: new Date(
      (kind === "refunded" ? lastRefund?.refundedAt : kind === "paid" ? trade.paidAt : trade.closedAt)?.getTime() ??
        book.now().getTime(),
    ),
    notifyId: `query-${trade.tradeNo}-${kind}-${trade.refundedFen}`,
  };
  if (kind === "refunded") {
    notification.refundFen = trade.refundedFen;
    if (lastRefund) notification.refundNo = lastRefund.refundNo;
  }
  return notification;
}

/**
 * Refunds part or all of a paid trade, once per refund number (see
 * SandboxPaymentProvider's `refund`); an accepted new refund is announced
 * through `notify` with the cumulative `refund_fee`.
 */
export function refundTrade(
  book: SandboxBook,
  request: { outTradeNo: string; refundNo: string; refundFen: number; totalFen: number },
  notify: (trade: Trade, fields: PendingFields) => void,
): { accepted: boolean } {
  const { outTradeNo, refundNo, refundFen, totalFen } = request;
  if (!OUT_TRADE_NO.test(refundNo)) invalid("refundNo must be 1-64 letters, digits, _ or -");
  if (!Number.isSafeInteger(refundFen) || refundFen <= 0) invalid("refundFen must be a positive integer");
  if (!Number.isSafeInteger(totalFen) || totalFen <= 0) invalid("totalFen must be a positive integer");
  const trade = currentTrade(book, outTradeNo);
  if (!trade) return { accepted: false };
  const known = trade.refunds.get(refundNo);
  if (known) return { accepted: known.refundFen === refundFen };
  if (trade.status !== "TRADE_SUCCESS" || totalFen !== trade.amountFen) return { accepted: false };
  if (trade.refundedFen + refundFen > trade.amountFen) return { accepted: false };

  const refundedAt = book.now();
  trade.refunds.set(refundNo, { refundNo, refundFen, refundedAt });
  trade.refundedFen += refundFen;
  const full = trade.refundedFen === trade.amountFen;
  const fields: PendingFields = {
    ...tradeFields(book, trade),
    trade_status: full ? "TRADE_CLOSED" : "TRADE_SUCCESS",
    refund_fee: formatYuan(trade.refundedFen),
    gmt_refund: formatChinaTime(refundedAt, { millis: true }),
    out_biz_no: refundNo,
  };
  if (full) {
    trade.status = "TRADE_CLOSED";
    trade.closedAt = refundedAt;
    fields.gmt_close = formatChinaTime(refundedAt);
  }
  notify(trade, fields);
  return { accepted: true };
}
