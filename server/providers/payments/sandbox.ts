import { type KeyObject, generateKeyPairSync, randomInt } from "node:crypto";

import {
  type AlipayNotificationCore,
  alipayAnswer,
  buildAlipayNotificationBody,
  formatChinaTime,
  parseChinaTime,
  verifyAlipayNotification,
} from "./alipay-notification.js";
import { formatYuan, parseYuanToFen } from "./alipay-signature.js";
import {
  type PaymentEventKind,
  type PaymentIntent,
  type PaymentIntentRequest,
  type PaymentNotification,
  type PaymentProvider,
  type ProviderStatement,
  PaymentOperationError,
  PaymentStatementError,
} from "./types.js";

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

/** A notification's fields before its (per attempt) notify_time. */
type PendingFields = Omit<AlipayNotificationCore, "notify_time"> & { [other: string]: string | undefined };
type TradeFields = Omit<AlipayNotificationCore, "notify_time" | "trade_status"> & {
  [other: string]: string | undefined;
};

interface Trade extends Omit<SandboxTrade, "refunds"> {
  refunds: Map<string, SandboxRefund>;
}

const OUT_TRADE_NO = /^[A-Za-z0-9_-]{1,64}$/;
/** Alipay's ceiling for one trade: 100,000,000.00 yuan. */
const MAX_AMOUNT_FEN = 10_000_000_000;

const digits = (count: number) => Array.from({ length: count }, () => randomInt(10)).join("");
function invalid(message: string): never {
  throw new PaymentOperationError("invalid-request", message);
}

export function createSandboxPaymentProvider(options: SandboxPaymentProviderOptions = {}): SandboxPaymentProvider {
  const appId = options.appId ?? "sandbox-app";
  const { publicKey, privateKey } = options.keyPair ?? generateKeyPairSync("rsa", { modulusLength: 2048 });
  const publicKeyPem = publicKey.export({ type: "spki", format: "pem" }).toString();
  const retryDelaysMs = [...(options.retryDelaysMs ?? SANDBOX_RETRY_DELAYS_MS)];
  const deliveryTimeoutMs = options.deliveryTimeoutMs ?? 10_000;
  const now = options.now ?? (() => new Date());

  const book = new Map<string, Trade>();
  const pending = new Set<Promise<SandboxDelivery>>();
  const waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  const stopping = new AbortController();
  let notifications = 0;

  /** The trade; with `enforceExpiry`, closed once its payment window has passed unpaid. */
  function current(outTradeNo: string): Trade | undefined {
    const trade = book.get(outTradeNo);
    if (options.enforceExpiry && trade?.status === "WAIT_BUYER_PAY" && now().getTime() >= trade.expiresAt.getTime()) {
      trade.status = "TRADE_CLOSED";
      trade.closedAt = trade.expiresAt;
    }
    return trade;
  }

  function wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          waits.delete(entry);
          resolve();
        }, ms),
        resolve,
      };
      waits.add(entry);
    });
  }

  async function attempt(url: string, body: string): Promise<boolean> {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body,
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(deliveryTimeoutMs), stopping.signal]),
      });
      const text = await response.text();
      return response.status === 200 && text === "success";
    } catch {
      return false;
    }
  }

  /** Posts the notification until answered `success` or the schedule is spent; the same notify_id every time. */
  function deliver(trade: Trade, kind: PaymentEventKind, fields: PendingFields) {
    const run = async (): Promise<SandboxDelivery> => {
      let attempts = 0;
      for (let retry = 0; !stopping.signal.aborted; retry++) {
        attempts++;
        const body = buildAlipayNotificationBody({ ...fields, notify_time: formatChinaTime(now()) }, privateKey);
        if (await attempt(trade.notifyUrl, body))
          return { outTradeNo: trade.outTradeNo, notifyId: fields.notify_id, kind, delivered: true, attempts };
        const delay = retryDelaysMs[retry];
        if (delay === undefined || stopping.signal.aborted) break;
        await wait(delay);
      }
      return { outTradeNo: trade.outTradeNo, notifyId: fields.notify_id, kind, delivered: false, attempts };
    };
    const delivery = run();
    pending.add(delivery);
    void delivery.finally(() => pending.delete(delivery));
    return delivery;
  }

  function tradeFields(trade: Trade): TradeFields {
    notifications++;
    const fields: TradeFields = {
      notify_type: "trade_status_sync",
      notify_id: `sbx${trade.tradeNo}${String(notifications).padStart(6, "0")}`,
      app_id: appId,
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

  function snapshot(trade: Trade): SandboxTrade {
    return { ...trade, refunds: [...trade.refunds.values()].map((refund) => ({ ...refund })) };
  }

  const provider: SandboxPaymentProvider = {
    name: "sandbox",
    appId,
    publicKeyPem,

    async createIntent(request: PaymentIntentRequest): Promise<PaymentIntent> {
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

      const intent: PaymentIntent = {
        provider: "sandbox",
        outTradeNo,
        qrCode: `sandbox://pay/${outTradeNo}`,
        cashierPath: `/pay/sandbox/cashier/${outTradeNo}`,
      };
      const existing = current(outTradeNo);
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
      const createdAt = now();
      book.set(outTradeNo, {
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
    },

    pay(outTradeNo: string): Promise<SandboxDelivery> {
      const trade = current(outTradeNo);
      if (!trade) return Promise.reject(new PaymentOperationError("unknown-trade", `No trade ${outTradeNo}`));
      if (trade.status === "TRADE_SUCCESS")
        return Promise.reject(new PaymentOperationError("trade-paid", `Trade ${outTradeNo} is already paid`));
      if (trade.status === "TRADE_CLOSED")
        return Promise.reject(new PaymentOperationError("trade-closed", `Trade ${outTradeNo} is closed`));
      trade.status = "TRADE_SUCCESS";
      trade.paidAt = now();
      return deliver(trade, "paid", { ...tradeFields(trade), trade_status: "TRADE_SUCCESS" });
    },

    parseNotification(_headers, rawBody, _now): PaymentNotification {
      return verifyAlipayNotification(rawBody, { publicKey, appId, provider: "sandbox" });
    },

    answer: alipayAnswer,

    async queryOrder(outTradeNo: string): Promise<PaymentNotification | null> {
      const trade = current(outTradeNo);
      if (!trade || trade.status === "WAIT_BUYER_PAY") return null;
      const refunds = [...trade.refunds.values()];
      const lastRefund = refunds.at(-1);
      const kind: PaymentEventKind =
        trade.refundedFen > 0 ? "refunded" : trade.status === "TRADE_SUCCESS" ? "paid" : "closed";
      const notification: PaymentNotification = {
        provider: "sandbox",
        kind,
        appId,
        outTradeNo,
        tradeNo: trade.tradeNo,
        amountFen: trade.amountFen,
        occurredAt: new Date(
          (kind === "refunded" ? lastRefund?.refundedAt : kind === "paid" ? trade.paidAt : trade.closedAt)?.getTime() ??
            now().getTime(),
        ),
        notifyId: `query-${trade.tradeNo}-${kind}-${trade.refundedFen}`,
      };
      if (kind === "refunded") {
        notification.refundFen = trade.refundedFen;
        if (lastRefund) notification.refundNo = lastRefund.refundNo;
      }
      return notification;
    },

    /** Closes an unpaid trade; closing an unknown or closed trade does nothing, a paid one is refused. */
    async closeOrder(outTradeNo: string): Promise<void> {
      const trade = current(outTradeNo);
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
    async refund({ outTradeNo, refundNo, refundFen, totalFen }): Promise<{ accepted: boolean }> {
      if (!OUT_TRADE_NO.test(refundNo)) invalid("refundNo must be 1-64 letters, digits, _ or -");
      if (!Number.isSafeInteger(refundFen) || refundFen <= 0) invalid("refundFen must be a positive integer");
      if (!Number.isSafeInteger(totalFen) || totalFen <= 0) invalid("totalFen must be a positive integer");
      const trade = current(outTradeNo);
      if (!trade) return { accepted: false };
      const known = trade.refunds.get(refundNo);
      if (known) return { accepted: known.refundFen === refundFen };
      if (trade.status !== "TRADE_SUCCESS" || totalFen !== trade.amountFen) return { accepted: false };
      if (trade.refundedFen + refundFen > trade.amountFen) return { accepted: false };

      const refundedAt = now();
      trade.refunds.set(refundNo, { refundNo, refundFen, refundedAt });
      trade.refundedFen += refundFen;
      const full = trade.refundedFen === trade.amountFen;
      const fields: PendingFields = {
        ...tradeFields(trade),
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
      void deliver(trade, "refunded", fields);
      return { accepted: true };
    },

    trade(outTradeNo: string): SandboxTrade | undefined {
      const trade = current(outTradeNo);
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
      const day = typeof date === "string" ? date : formatChinaTime(date).slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) invalid(`Not a date: ${day}`);
      const start = parseChinaTime(`${day} 00:00:00`);
      const end = new Date(start.getTime() + 24 * 3600 * 1000);
      const within = (at: Date | undefined) => at !== undefined && at >= start && at < end;

      const lines: { at: Date; row: StatementLine }[] = [];
      for (const trade of book.values()) {
        if (trade.paidAt && within(trade.paidAt))
          lines.push({
            at: trade.paidAt,
            row: {
              trade,
              type: "交易",
              createdAt: trade.createdAt,
              finishedAt: trade.paidAt,
              receivedFen: trade.amountFen,
            },
          });
        for (const refund of trade.refunds.values())
          if (within(refund.refundedAt))
            lines.push({
              at: refund.refundedAt,
              row: {
                trade,
                type: "退款",
                createdAt: refund.refundedAt,
                finishedAt: refund.refundedAt,
                receivedFen: -refund.refundFen,
                refundNo: refund.refundNo,
              },
            });
      }
      lines.sort((a, b) => a.at.getTime() - b.at.getTime());
      return writeStatement({
        account: appId,
        start,
        end,
        exportedAt: now(),
        rows: lines.map(({ row }) => row),
      });
    },

    async whenIdle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },

    close(): void {
      stopping.abort();
      for (const entry of waits) {
        clearTimeout(entry.timer);
        entry.resolve();
      }
      waits.clear();
    },
  };
  return provider;
}

// ===== the trade bill (业务明细) =====

/** The columns of Alipay's trade bill, in its order. */
export const ALIPAY_STATEMENT_COLUMNS = [
  "支付宝交易号",
  "商户订单号",
  "业务类型",
  "商品名称",
  "创建时间",
  "完成时间",
  "门店编号",
  "门店名称",
  "操作员",
  "终端号",
  "对方账户",
  "订单金额（元）",
  "商家实收（元）",
  "支付宝红包（元）",
  "集分宝（元）",
  "支付宝优惠（元）",
  "商家优惠（元）",
  "券核销金额（元）",
  "券名称",
  "商家红包消费金额（元）",
  "卡消费金额（元）",
  "退款批次号/请求号",
  "服务费（元）",
  "分润（元）",
  "备注",
] as const;

interface StatementLine {
  trade: Trade;
  type: "交易" | "退款";
  createdAt: Date;
  finishedAt: Date;
  receivedFen: number;
  refundNo?: string;
}

const RULE = "-----------------------------------------";

function chineseTime(date: Date): string {
  const text = formatChinaTime(date);
  return `${text.slice(0, 4)}年${text.slice(5, 7)}月${text.slice(8, 10)}日 ${text.slice(11)}`;
}

function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

function writeStatement(input: { account: string; start: Date; end: Date; exportedAt: Date; rows: StatementLine[] }) {
  const out: string[] = [
    "#支付宝业务明细查询",
    `#账号：[${input.account}]`,
    `#起始日期：[${chineseTime(input.start)}]   终止日期：[${chineseTime(input.end)}]`,
    `#${RULE}业务明细列表${RULE}`,
    ALIPAY_STATEMENT_COLUMNS.join(","),
  ];
  let trades = 0;
  let tradeFen = 0;
  let refunds = 0;
  let refundFen = 0;
  for (const row of input.rows) {
    if (row.type === "交易") {
      trades++;
      tradeFen += row.receivedFen;
    } else {
      refunds++;
      refundFen += row.receivedFen;
    }
    const values: Record<(typeof ALIPAY_STATEMENT_COLUMNS)[number], string> = {
      支付宝交易号: row.trade.tradeNo,
      商户订单号: row.trade.outTradeNo,
      业务类型: row.type,
      商品名称: row.trade.subject,
      创建时间: formatChinaTime(row.createdAt),
      完成时间: formatChinaTime(row.finishedAt),
      门店编号: "",
      门店名称: "",
      操作员: "",
      终端号: "",
      对方账户: row.trade.buyerId,
      "订单金额（元）": formatYuan(row.trade.amountFen),
      "商家实收（元）": formatYuan(row.receivedFen),
      "支付宝红包（元）": "0.00",
      "集分宝（元）": "0.00",
      "支付宝优惠（元）": "0.00",
      "商家优惠（元）": "0.00",
      "券核销金额（元）": "0.00",
      券名称: "",
      "商家红包消费金额（元）": "0.00",
      "卡消费金额（元）": "0.00",
      "退款批次号/请求号": row.refundNo ?? "",
      "服务费（元）": "0.00",
      "分润（元）": "0.00",
      备注: "",
    };
    out.push(ALIPAY_STATEMENT_COLUMNS.map((column) => csvField(values[column])).join(","));
  }
  out.push(
    `#${RULE}业务明细列表结束${RULE}`,
    `#交易合计：${trades}笔，商家实收：${formatYuan(tradeFen)}元，商家优惠：0.00元`,
    `#退款合计：${refunds}笔，商家实收：${formatYuan(refundFen)}元，商家优惠：0.00元`,
    `#导出时间：[${chineseTime(input.exportedAt)}]`,
  );
  return `${out.join("\n")}\n`;
}

/** One line of a trade bill, amounts in fen. */
export interface AlipayStatementRow {
  tradeNo: string;
  outTradeNo: string;
  type: "交易" | "退款";
  subject: string;
  createdAt: Date;
  finishedAt: Date;
  /** The trade's amount (订单金额), also on its refund lines. */
  amountFen: number;
  /** What the merchant received (商家实收): negative on refund lines. */
  receivedFen: number;
  /** The amount refunded by a refund line; 0 on trade lines. */
  refundFen: number;
  /** 退款批次号/请求号 of a refund line. */
  refundNo?: string;
  serviceFeeFen: number;
}

export interface AlipayStatement {
  account?: string;
  rows: AlipayStatementRow[];
  summary: { tradeCount: number; tradeFen: number; refundCount: number; refundFen: number };
}

/** Splits CSV text into records of fields; `#` lines (outside quotes, at a record's start) come back as comments. */
function readCsv(text: string): ({ comment: string } | { fields: string[] })[] {
  const records: ({ comment: string } | { fields: string[] })[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    if (text[i] === "\r" || text[i] === "\n") {
      i++;
      continue;
    }
    if (text[i] === "#") {
      let end = text.indexOf("\n", i);
      if (end === -1) end = n;
      records.push({ comment: text.slice(i + 1, end).replace(/\r$/, "") });
      i = end + 1;
      continue;
    }
    const fields: string[] = [];
    for (;;) {
      let value = "";
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= n) throw new SyntaxError("Unterminated quoted CSV field");
          if (text[i] === '"') {
            if (text[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          value += text[i];
          i++;
        }
        if (i < n && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n")
          throw new SyntaxError("Text after a closing quote");
      } else {
        while (i < n && text[i] !== "," && text[i] !== "\r" && text[i] !== "\n") value += text[i++];
      }
      fields.push(value);
      if (text[i] === ",") {
        i++;
        continue;
      }
      break;
    }
    records.push({ fields });
  }
  return records;
}

/** A signed yuan amount ("-19.90") in fen. */
function signedFen(text: string): number {
  const trimmed = text.trim();
  if (trimmed === "") return 0;
  return trimmed.startsWith("-") ? -parseYuanToFen(trimmed.slice(1)) : parseYuanToFen(trimmed);
}

/**
 * Reads a trade bill as {@link SandboxPaymentProvider.statement} (and
 * Alipay) writes it: the rows with fen amounts, and the summary lines, which
 * must agree with the rows (throws otherwise, or on a malformed bill).
 * Values are trimmed (Alipay pads them with tabs); columns are found by name.
 */
export function parseAlipayStatement(csv: string): AlipayStatement {
  const records = readCsv(csv);
  let header: string[] | undefined;
  const rows: AlipayStatementRow[] = [];
  let account: string | undefined;
  let tradeSummary: { count: number; fen: number } | undefined;
  let refundSummary: { count: number; fen: number } | undefined;

  for (const record of records) {
    if ("comment" in record) {
      const accountMatch = /^账号：\[(.*)\]$/.exec(record.comment.trim());
      if (accountMatch) account = accountMatch[1];
      const sum = /^(交易|退款)合计：(\d+)笔，商家实收：(-?[\d.]+)元/.exec(record.comment.trim());
      if (sum) {
        const value = { count: Number(sum[2]), fen: signedFen(sum[3] ?? "") };
        if (sum[1] === "交易") tradeSummary = value;
        else refundSummary = value;
      }
      continue;
    }
    const fields = record.fields.map((field) => field.trim());
    if (!header) {
      header = fields;
      for (const column of [
        "支付宝交易号",
        "商户订单号",
        "业务类型",
        "创建时间",
        "完成时间",
        "订单金额（元）",
        "商家实收（元）",
      ])
        if (!header.includes(column)) throw new SyntaxError(`The bill has no ${column} column`);
      continue;
    }
    const columns = header;
    const get = (column: string) => {
      const index = columns.indexOf(column);
      return index === -1 ? "" : (fields[index] ?? "");
    };
    const type = get("业务类型");
    if (type !== "交易" && type !== "退款") throw new SyntaxError(`Unknown 业务类型 ${type}`);
    const receivedFen = signedFen(get("商家实收（元）"));
    const row: AlipayStatementRow = {
      tradeNo: get("支付宝交易号"),
      outTradeNo: get("商户订单号"),
      type,
      subject: get("商品名称"),
      createdAt: parseChinaTime(get("创建时间")),
      finishedAt: parseChinaTime(get("完成时间")),
      amountFen: signedFen(get("订单金额（元）")),
      receivedFen,
      refundFen: type === "退款" ? -receivedFen : 0,
      serviceFeeFen: signedFen(get("服务费（元）")),
    };
    const refundNo = get("退款批次号/请求号");
    if (refundNo !== "") row.refundNo = refundNo;
    rows.push(row);
  }
  if (!header) throw new SyntaxError("The bill has no column header line");

  const trades = rows.filter((row) => row.type === "交易");
  const refunds = rows.filter((row) => row.type === "退款");
  const summary = {
    tradeCount: trades.length,
    tradeFen: trades.reduce((sum, row) => sum + row.receivedFen, 0),
    refundCount: refunds.length,
    refundFen: refunds.reduce((sum, row) => sum + row.refundFen, 0),
  };
  if (tradeSummary && (tradeSummary.count !== summary.tradeCount || tradeSummary.fen !== summary.tradeFen))
    throw new SyntaxError("The 交易合计 line disagrees with the rows");
  if (refundSummary && (refundSummary.count !== summary.refundCount || -refundSummary.fen !== summary.refundFen))
    throw new SyntaxError("The 退款合计 line disagrees with the rows");
  const statement: AlipayStatement = { rows, summary };
  if (account !== undefined) statement.account = account;
  return statement;
}

/** An Alipay-format trade bill as provider-neutral rows (refund lines carry the amount they refunded). */
export function neutralStatement(
  provider: ProviderStatement["provider"],
  day: string,
  bill: AlipayStatement,
): ProviderStatement {
  return {
    provider,
    day,
    rows: bill.rows.map((row) => ({
      outTradeNo: row.outTradeNo,
      tradeNo: row.tradeNo,
      kind: row.type === "交易" ? "trade" : "refund",
      amountFen: row.amountFen,
      refundFen: row.refundFen,
      at: row.finishedAt,
      ...(row.refundNo === undefined ? {} : { refundNo: row.refundNo }),
    })),
  };
}
