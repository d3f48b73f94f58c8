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
}

/** A notification that must be refused (and answered as such, so the provider retries or gives up). */
export class PaymentNotificationError extends Error {
  constructor(
    readonly reason: "signature" | "app-id" | "format" | "timestamp",
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
