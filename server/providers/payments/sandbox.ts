import { type KeyObject, generateKeyPairSync } from "node:crypto";

import { alipayAnswer, verifyAlipayNotification } from "./alipay-notification.js";
import { type AlipayStatement, neutralStatement, parseAlipayStatement } from "./alipay-statement.js";
import {
  type SandboxBook,
  currentTrade,
  openTrade,
  queryTrade,
  refundTrade,
  snapshot,
  tradeFields,
} from "./sandbox-book.js";
import { createSandboxNotifier } from "./sandbox-delivery.js";
import { sandboxStatementCsv } from "./sandbox-statement.js";
import {
  type PaymentEventKind,
  type PaymentNotification,
  type PaymentProvider,
  type ProviderStatement,
  PaymentOperationError,
  PaymentStatementError,
} from "./types.js";

// The trade bill's reader moved to alipay-statement.ts (the live Alipay provider reads the same format).
export {
  ALIPAY_STATEMENT_COLUMNS,
  type AlipayStatement,
  type AlipayStatementRow,
  neutralStatement,
  parseAlipayStatement,
} from "./alipay-statement.js";

/**
 * The development payment provider: a local cashier that speaks Alipay's
 * notification protocol for real (RSA2-signed form posts, `success` answers,
 * Alipay's retry schedule) with its own key pair, and keeps its trades in
 * memory. The cashier page calls {@link SandboxPaymentProvider.pay} when the
 * "buyer" pays.
 */

/** Alipay's notification retry schedule after a failed delivery: 4m, 10m, 10m, 1h, 2h, 6h, 15h. */
export const ALIPAY_RETRY_SCHEDULE_MS: readonly number[] = [
  4 * 60_000,
  10 * 60_000,
  10 * 60_000,
  3_600_000,
  2 * 3_600_000,
  6 * 3_600_000,
  15 * 3_600_000,
];

/** The sandbox's default: Alipay's schedule scaled down by 1/1000 (240 ms … 54 s). */
export const SANDBOX_RETRY_DELAYS_MS: readonly number[] = ALIPAY_RETRY_SCHEDULE_MS.map((ms) => ms / 1000);

export interface SandboxPaymentProviderOptions {
  /** The app id put in (and required of) notifications; "sandbox-app" unless given. */
  appId?: string;
  /** The sandbox's "Alipay" key pair; a fresh 2048-bit RSA pair unless given. */
  keyPair?: { publicKey: KeyObject; privateKey: KeyObject };
  /** The waits between delivery attempts; delivery stops after the last. */
  retryDelaysMs?: readonly number[];
  /** How long one delivery attempt may take. */
  deliveryTimeoutMs?: number;
  /** The sandbox's clock (trade times, statements); the real clock unless given. */
  now?: () => Date;
  /**
   * Close unpaid trades once their `expiresAt` has passed, as Alipay closes
   * timed-out trades. Off unless asked: by default the cashier still takes a
   * payment after the window, so the late-payment path (a payment that
   * reaches us after the order expired) can be exercised.
   */
  enforceExpiry?: boolean;
}

export type SandboxTradeStatus = "WAIT_BUYER_PAY" | "TRADE_SUCCESS" | "TRADE_CLOSED";

export interface SandboxRefund {
  refundNo: string;
  refundFen: number;
  refundedAt: Date;
}

/** A trade in the sandbox's book, as the cashier page shows it. */
export interface SandboxTrade {
  outTradeNo: string;
  tradeNo: string;
  subject: string;
  amountFen: number;
  notifyUrl: string;
  buyerId: string;
  createdAt: Date;
  expiresAt: Date;
  status: SandboxTradeStatus;
  paidAt?: Date;
  closedAt?: Date;
  refundedFen: number;
  refunds: SandboxRefund[];
}

/** How a notification's delivery ended. */
export interface SandboxDelivery {
  outTradeNo: string;
  notifyId: string;
  kind: PaymentEventKind;
  delivered: boolean;
  attempts: number;
}

export interface SandboxPaymentProvider extends PaymentProvider {
  readonly name: "sandbox";
  readonly appId: string;
  /** The public key notifications are signed for (SPKI PEM). */
  readonly publicKeyPem: string;
  /**
   * The cashier's "pay" button: marks the trade paid and delivers the
   * TRADE_SUCCESS notification, retrying on the schedule; resolves once it
   * was answered `success` or every retry is spent.
   */
  pay(outTradeNo: string): Promise<SandboxDelivery>;
  /** A copy of a trade as the book has it (undefined when unknown). */
  trade(outTradeNo: string): SandboxTrade | undefined;
  /** The day's trade bill (China date "yyyy-MM-dd", or the China day of a Date) as Alipay's CSV. */
  statementCsv(date: Date | string): string;
  /** The day's trade bill, read back from {@link statementCsv} into provider-neutral rows. */
  statement(day: string): Promise<ProviderStatement>;
  /** Resolves once every notification under way (e.g. refunds') is delivered or given up. */
  whenIdle(): Promise<void>;
  /** Stops every delivery under way (they end as not delivered); for shutdown. */
  close(): void;
}

export function createSandboxPaymentProvider(options: SandboxPaymentProviderOptions = {}): SandboxPaymentProvider {
  const appId = options.appId ?? "sandbox-app";
  const { publicKey, privateKey } = options.keyPair ?? generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const now = options.now ?? (() => new Date());
  const book: SandboxBook = {
    appId,
    now,
    enforceExpiry: options.enforceExpiry ?? false,
    trades: new Map(),
    notifications: 0,
  };
  const notifier = createSandboxNotifier({
    privateKey,
    retryDelaysMs: [...(options.retryDelaysMs ?? SANDBOX_RETRY_DELAYS_MS)],
    deliveryTimeoutMs: options.deliveryTimeoutMs ?? 10_000,
    now,
  });

  const provider: SandboxPaymentProvider = {
    name: "sandbox",
    appId,
    publicKeyPem,

    async createIntent(request) {
      return openTrade(book, request);
    },

    pay(outTradeNo: string): Promise<SandboxDelivery> {
      const trade = currentTrade(book, outTradeNo);
      if (!trade) return Promise.reject(new PaymentOperationError("unknown-trade", `No trade ${outTradeNo}`));
      if (trade.status === "TRADE_SUCCESS")
        return Promise.reject(new PaymentOperationError("trade-paid", `Trade ${outTradeNo} is already paid`));
      if (trade.status === "TRADE_CLOSED")
        return Promise.reject(new PaymentOperationError("trade-closed", `Trade ${outTradeNo} is closed`));
      trade.status = "TRADE_SUCCESS";
      trade.paidAt = now();
      return notifier.deliver(trade, "paid", { ...tradeFields(book, trade), trade_status: "TRADE_SUCCESS" });
    },

    parseNotification(_headers, rawBody, _now): PaymentNotification {
      return verifyAlipayNotification(rawBody, { publicKey, appId, provider: "sandbox" });
    },

    answer: alipayAnswer,

    async queryOrder(outTradeNo: string): Promise<PaymentNotification | null> {
      return queryTrade(book, outTradeNo);
    },

    /** Closes an unpaid trade; closing an unknown or closed trade does nothing, a paid one is refused. */
    async closeOrder(outTradeNo: string): Promise<void> {
      const trade = currentTrade(book, outTradeNo);
      if (!trade || trade.status === "TRADE_CLOSED") return;
      if (trade.status === "TRADE_SUCCESS")
        throw new PaymentOperationError("trade-paid", `Trade ${outTradeNo} is paid; refund it instead`);
      trade.status = "TRADE_CLOSED";
      trade.closedAt = now();
    },

    /**
     * Refunds part or all of a paid trade, once per refund number (asking
     * again with the same number and amount is accepted without refunding
     * twice). Refused: unknown or unpaid trades, a `totalFen` that is not the
     * trade's, more than what is left, a known refund number with another
     * amount. A full refund closes the trade; either way a notification with
     * the cumulative `refund_fee` is delivered in the background.
     */
    async refund(request): Promise<{ accepted: boolean }> {
      return refundTrade(book, request, (trade, fields) => void notifier.deliver(trade, "refunded", fields));
    },

    trade(outTradeNo: string): SandboxTrade | undefined {
      const trade = currentTrade(book, outTradeNo);
      return trade && snapshot(trade);
    },

    async statement(day: string): Promise<ProviderStatement> {
      let bill: AlipayStatement;
      try {
        bill = parseAlipayStatement(provider.statementCsv(day));
      } catch (error) {
        if (error instanceof PaymentOperationError) throw error;
        throw new PaymentStatementError("format", `sandbox statement: ${(error as Error).message}`);
      }
      return neutralStatement("sandbox", day, bill);
    },

    statementCsv(date: Date | string): string {
      return sandboxStatementCsv(book.trades.values(), appId, date, now);
    },

    whenIdle: () => notifier.whenIdle(),
    close: () => notifier.close(),
  };
  return provider;
}
