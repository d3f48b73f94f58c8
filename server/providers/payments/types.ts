/**
 * The fiat payment provider layer: a QR-code cashier (Alipay, WeChat Pay, or
 * the local sandbox that speaks Alipay's protocol) and its asynchronous
 * notifications. Money is always integer fen (1 yuan = 100 fen).
 */

export interface PaymentIntentRequest {
  outTradeNo: string; // our order number
  amountFen: number; // integer fen, > 0
  subject: string; // shown in the cashier
  expiresAt: Date; // the payment window
  notifyUrl: string; // absolute URL of our notification endpoint
}

export interface PaymentIntent {
  provider: string;
  outTradeNo: string;
  qrCode: string; // what the cashier QR encodes
  cashierPath?: string; // sandbox: the local cashier page
}

export type PaymentEventKind = "paid" | "closed" | "refunded";

export interface PaymentNotification {
  provider: string;
  kind: PaymentEventKind;
  appId: string;
  outTradeNo: string;
  tradeNo: string; // the provider's transaction id
  amountFen: number; // the trade's total
  /**
   * The refunded amount as the provider reports it. Alipay's `refund_fee` (and
   * so the sandbox's) is the trade's cumulative refunded total; WeChat Pay's
   * refund notification carries the amount of that one refund.
   */
  refundFen?: number;
  refundNo?: string;
  occurredAt: Date;
  notifyId: string; // the provider's id of this notification (for idempotency logs)
}

export interface NotificationAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface PaymentProvider {
  readonly name: "sandbox" | "alipay" | "wechatpay";
  createIntent(request: PaymentIntentRequest): Promise<PaymentIntent>;
  /** Verifies and parses a raw notification; throws PaymentNotificationError when it must be refused. */
  parseNotification(headers: Record<string, string | undefined>, rawBody: string, now: Date): PaymentNotification;
  /** What to answer the provider once the notification is handled (success) or refused. */
  answer(accepted: boolean): NotificationAnswer;
  queryOrder(outTradeNo: string): Promise<PaymentNotification | null>;
  closeOrder(outTradeNo: string): Promise<void>;
  refund(request: {
    outTradeNo: string;
    refundNo: string;
    refundFen: number;
    totalFen: number;
  }): Promise<{ accepted: boolean }>;
  /**
   * The provider's statement (trade bill) of one China day ("YYYY-MM-DD"), when
   * the provider offers one; throws PaymentStatementError when it cannot be had
   * or cannot be believed (a signature or digest that does not check out).
   */
  statement?(day: string): Promise<ProviderStatement>;
}

/** One line of a provider's trade bill, amounts in integer fen. */
export interface ProviderStatementRow {
  outTradeNo: string; // our order number
  tradeNo: string; // the provider's transaction id
  kind: "trade" | "refund";
  /** The trade's total (also on its refund lines). */
  amountFen: number;
  /** What a refund line refunded; 0 on trade lines. */
  refundFen: number;
  /** When the payment (or the refund) completed. */
  at: Date;
  /** Our refund number, on refund lines. */
  refundNo?: string;
}

/** A day's trade bill, whatever the provider. */
export interface ProviderStatement {
  provider: PaymentProvider["name"];
  day: string; // the China date it covers
  rows: ProviderStatementRow[];
}

/**
 * A statement that could not be had (`not-ready`: the provider has not produced
 * it yet; `unavailable`: no answer or an error answer) or must not be believed
 * (`signature`: the answer's signature; `digest`: the file does not match the
 * digest the signed answer gave; `format`: not a bill we can read).
 */
export class PaymentStatementError extends Error {
  constructor(
    readonly reason: "not-ready" | "unavailable" | "signature" | "digest" | "format",
    message: string,
  ) {
    super(message);
    this.name = "PaymentStatementError";
  }
}

/** A notification that must be refused (and answered as such, so the provider retries or gives up). */
export class PaymentNotificationError extends Error {
  constructor(
    /** `app-id` / `seller-id`: signed by the provider, but for another app, merchant or seller than ours. */
    readonly reason: "signature" | "app-id" | "seller-id" | "format" | "timestamp",
    message: string,
  ) {
    super(message);
    this.name = "PaymentNotificationError";
  }
}

/** Why a provider operation (create, close, ...) was refused. */
export type PaymentOperationFailure = "invalid-request" | "conflict" | "unknown-trade" | "trade-paid" | "trade-closed";

/** A provider operation the provider refused (as opposed to a notification we refuse). */
export class PaymentOperationError extends Error {
  constructor(
    readonly code: PaymentOperationFailure,
    message: string,
  ) {
    super(message);
    this.name = "PaymentOperationError";
  }
}
