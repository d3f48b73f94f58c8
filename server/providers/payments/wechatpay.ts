import { type KeyObject, createHash, createPrivateKey, randomBytes, sign, timingSafeEqual } from "node:crypto";
import { gunzipSync } from "node:zlib";

import { z } from "zod";

import { fetchBillFile } from "./bill-download.js";
import { parseWechatpayTradeBill } from "./wechatpay-bill.js";
import {
  type WechatpayKey,
  formatWechatpayTime,
  parseWechatpayNotification,
  parseWechatpayTime,
  verifyWechatpaySignature,
  wechatpayAnswer,
} from "./wechatpay-crypto.js";
import {
  type PaymentIntent,
  type PaymentIntentRequest,
  type PaymentNotification,
  type PaymentOperationFailure,
  type PaymentProvider,
  type ProviderStatement,
  PaymentNotificationError,
  PaymentOperationError,
  PaymentStatementError,
} from "./types.js";

/**
 * The live WeChat Pay provider: API v3 Native payment (a `code_url` the
 * collector scans), query, close and refund, spoken as HTTPS JSON with
 * `WECHATPAY2-SHA256-RSA2048` request signatures. Every answer must carry a
 * valid platform signature (the "WeChat Pay public key" mode: one configured
 * public key and its `PUB_KEY_ID_…` id) or it is not believed.
 */
export interface WechatpayProviderOptions {
  /** The app id (公众号/小程序/移动应用) bound to the merchant. */
  appId: string;
  /** The merchant id (商户号). */
  mchId: string;
  /** The serial number of the merchant API certificate whose private key signs requests. */
  mchSerial: string;
  /** The merchant API private key (apiclient_key.pem). */
  privateKey: string | KeyObject;
  /** The 32-byte APIv3 key that encrypts notification resources. */
  apiV3Key: string;
  /** WeChat Pay's public key (pub_key.pem) and its id, for answers and notifications. */
  platformPublicKey: WechatpayKey;
  platformPublicKeyId: string;
  /** More platform keys by id or serial (a rotation, or platform certificates during a switch). */
  extraPlatformKeys?: ReadonlyMap<string, WechatpayKey>;
  /** Where refund notifications go (else the URL configured on the merchant platform). */
  refundNotifyUrl?: string;
  /** The API's base URL; WeChat Pay's production host unless given. */
  gateway?: string;
  timeoutMs?: number;
  /** The clock for request timestamps and the answers' clock-skew check. */
  now?: () => Date;
  /** Ask for trade bills gzip-compressed (tar_type=GZIP); true unless given. */
  gzipBills?: boolean;
  /** The largest bill file accepted, in bytes (after decompression); 64 MiB unless given. */
  maxBillBytes?: number;
}

export const WECHATPAY_GATEWAY = "https://api.mch.weixin.qq.com";

const USER_AGENT = "shuzang-server/1.0 (WeChat Pay API v3; Node.js)";

/**
 * A call to WeChat Pay that did not give a usable answer: no answer in time
 * (`timeout`), no connection (`network`), an answer without a valid platform
 * signature (`signature`), an error the provider does not map to a
 * {@link PaymentOperationError} (`refused`: e.g. 401 SIGN_ERROR, 5xx
 * SYSTEM_ERROR, 429), or a 2xx body that is not what the API documents
 * (`format`).
 */
export class WechatpayGatewayError extends Error {
  constructor(
    readonly reason: "timeout" | "network" | "signature" | "refused" | "format",
    readonly status: number | null,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
    this.name = "WechatpayGatewayError";
  }
}

interface Answer {
  status: number;
  body: string;
  /** The answer carried a platform signature and it verified. */
  signed: boolean;
  /** The error code and message of a non-2xx answer. */
  code: string | null;
  message: string;
}

const OPERATION_FAILURES: Record<string, PaymentOperationFailure> = {
  ORDER_NOT_EXIST: "unknown-trade",
  RESOURCE_NOT_EXISTS: "unknown-trade",
  ORDERPAID: "trade-paid",
  ORDER_CLOSED: "trade-closed",
  OUT_TRADE_NO_USED: "conflict",
  PARAM_ERROR: "invalid-request",
  INVALID_REQUEST: "invalid-request",
  APPID_MCHID_NOT_MATCH: "invalid-request",
};

const NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const nonceString = () => Array.from(randomBytes(32), (byte) => NONCE_ALPHABET[byte % NONCE_ALPHABET.length]).join("");

const fen = z.number().int().nonnegative();
const nativeSchema = z.looseObject({ code_url: z.string().min(1) });
const transactionSchema = z.looseObject({
  appid: z.string(),
  mchid: z.string(),
  out_trade_no: z.string().min(1),
  transaction_id: z.string().optional(),
  trade_state: z.string(),
  success_time: z.string().optional(),
  amount: z.looseObject({ total: fen.optional(), currency: z.string().optional() }).optional(),
});
const refundSchema = z.looseObject({
  out_refund_no: z.string(),
  status: z.string(),
});
const billSchema = z.looseObject({
  hash_type: z.literal("SHA1"),
  hash_value: z.string().regex(/^[0-9a-fA-F]{40}$/),
  download_url: z.string().min(1),
});
const errorSchema = z.looseObject({ code: z.string(), message: z.string().optional() });

/** The message a request signature covers: `METHOD\nURL\ntimestamp\nnonce\nbody\n`. */
export function wechatpayRequestMessage(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** Reads the fields of an `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…` header (null when it is not one). */
export function parseWechatpayAuthorization(header: string | undefined): Record<string, string> | null {
  const prefix = "WECHATPAY2-SHA256-RSA2048 ";
  if (!header?.startsWith(prefix)) return null;
  const fields: Record<string, string> = {};
  for (const match of header.slice(prefix.length).matchAll(/([a-z_]+)="([^"]*)"/g)) fields[match[1]!] = match[2]!;
  return fields;
}

export function createWechatpayPaymentProvider(options: WechatpayProviderOptions): PaymentProvider {
  const privateKey = typeof options.privateKey === "string" ? createPrivateKey(options.privateKey) : options.privateKey;
  if (Buffer.byteLength(options.apiV3Key, "utf8") !== 32) throw new TypeError("The APIv3 key must be 32 bytes");
  const platformKeys = new Map<string, WechatpayKey>([
    ...(options.extraPlatformKeys ?? new Map<string, WechatpayKey>()),
    [options.platformPublicKeyId, options.platformPublicKey],
  ]);
  const gateway = (options.gateway ?? WECHATPAY_GATEWAY).replace(/\/+$/, "");
  const timeoutMs = options.timeoutMs ?? 10_000;
  const now = options.now ?? (() => new Date());
  const mchid = options.mchId;

  function authorization(method: string, pathWithQuery: string, body: string): string {
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const nonce = nonceString();
    const signature = sign(
      "sha256",
      Buffer.from(wechatpayRequestMessage(method, pathWithQuery, timestamp, nonce, body), "utf8"),
      privateKey,
    ).toString("base64");
    return (
      `WECHATPAY2-SHA256-RSA2048 mchid="${mchid}",nonce_str="${nonce}",signature="${signature}",` +
      `timestamp="${timestamp}",serial_no="${options.mchSerial}"`
    );
  }

  async function call(operation: string, method: "GET" | "POST", path: string, payload?: unknown): Promise<Answer> {
    const url = new URL(`${gateway}${path}`);
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const headers: Record<string, string> = {
      Authorization: authorization(method, `${url.pathname}${url.search}`, body),
      Accept: "application/json",
      "User-Agent": USER_AGENT,
      // In the public-key mode this tells WeChat Pay which key we hold, so it signs the answer with it.
      "Wechatpay-Serial": options.platformPublicKeyId,
    };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(payload === undefined ? {} : { body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (name === "TimeoutError" || name === "AbortError")
        throw new WechatpayGatewayError("timeout", null, null, `${operation}: no answer within ${timeoutMs} ms`);
      throw new WechatpayGatewayError("network", null, null, `${operation}: ${(error as Error).message}`);
    }
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (answerHeaders[name] = value));
    const ok = response.status >= 200 && response.status < 300;
    const carriesSignature = answerHeaders["wechatpay-signature"] !== undefined;
    // A success must be signed; an error may be unsigned (401 SIGN_ERROR is), but a signature present must verify.
    if (ok || carriesSignature) {
      try {
        verifyWechatpaySignature(answerHeaders, text, now(), platformKeys);
      } catch (error) {
        if (!(error instanceof PaymentNotificationError)) throw error;
        throw new WechatpayGatewayError(
          "signature",
          response.status,
          null,
          `${operation}: the answer (HTTP ${response.status}) is refused: ${error.message}`,
        );
      }
    }
    let code: string | null = null;
    let message = "";
    if (!ok) {
      const parsed = errorSchema.safeParse(safeJson(text));
      code = parsed.success ? parsed.data.code : null;
      message = parsed.success ? (parsed.data.message ?? "") : "";
    }
    return { status: response.status, body: text, signed: carriesSignature, code, message };
  }

  /** The error for a non-2xx answer: signed business codes map to PaymentOperationError, the rest do not. */
  function failure(operation: string, answer: Answer): Error {
    const text = `${operation}: HTTP ${answer.status} ${answer.code ?? "(no code)"}${answer.message ? ` ${answer.message}` : ""}`;
    const mapped = answer.code === null ? undefined : OPERATION_FAILURES[answer.code];
    if (answer.signed && mapped !== undefined && answer.status >= 400 && answer.status < 500)
      return new PaymentOperationError(mapped, text);
    return new WechatpayGatewayError("refused", answer.status, answer.code, text);
  }

  function json<T>(operation: string, answer: Answer, schema: z.ZodType<T>): T {
    const parsed = schema.safeParse(safeJson(answer.body));
    if (!parsed.success)
      throw new WechatpayGatewayError("format", answer.status, null, `${operation}: unexpected answer body`);
    return parsed.data;
  }

  const isOk = (answer: Answer) => answer.status >= 200 && answer.status < 300;
  const gzipBills = options.gzipBills ?? true;
  const maxBillBytes = options.maxBillBytes ?? 64 * 1024 * 1024;

  /** Downloads a bill file: signed like any request, but its answer is not (WeChat Pay does not sign files). */
  async function download(downloadUrl: string): Promise<Buffer> {
    let url: URL;
    try {
      url = new URL(downloadUrl);
    } catch {
      throw new PaymentStatementError("format", "tradebill: the download_url is not a URL");
    }
    // The request carries our signed Authorization: it goes to the gateway we call, nowhere else.
    if (url.origin !== new URL(gateway).origin)
      throw new PaymentStatementError("format", "tradebill: the download_url is not on the gateway");
    const bytes = await fetchBillFile(
      url,
      {
        method: "GET",
        headers: {
          Authorization: authorization("GET", `${url.pathname}${url.search}`, ""),
          Accept: "*/*",
          "User-Agent": USER_AGENT,
          "Wechatpay-Serial": options.platformPublicKeyId,
        },
      },
      { label: "billdownload", timeoutMs, maxBytes: maxBillBytes },
    );
    if (!gzipBills) return bytes;
    try {
      return gunzipSync(bytes, { maxOutputLength: maxBillBytes });
    } catch {
      throw new PaymentStatementError("format", "billdownload: the file is not gzip (or is too large)");
    }
  }
  const tradePath = (outTradeNo: string) => `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}`;

  return {
    name: "wechatpay",

    async createIntent(request: PaymentIntentRequest): Promise<PaymentIntent> {
      const { outTradeNo, amountFen, subject, expiresAt, notifyUrl } = request;
      if (!Number.isSafeInteger(amountFen) || amountFen <= 0)
        throw new PaymentOperationError("invalid-request", "amountFen must be a positive integer");
      const answer = await call("native", "POST", "/v3/pay/transactions/native", {
        appid: options.appId,
        mchid,
        // The API takes at most 127 characters.
        description: Array.from(subject).slice(0, 127).join(""),
        out_trade_no: outTradeNo,
        time_expire: formatWechatpayTime(expiresAt),
        notify_url: notifyUrl,
        amount: { total: amountFen, currency: "CNY" },
      });
      if (!isOk(answer)) throw failure("native", answer);
      const { code_url } = json("native", answer, nativeSchema);
      return { provider: "wechatpay", outTradeNo, qrCode: code_url };
    },

    parseNotification(headers, rawBody, at): PaymentNotification {
      return parseWechatpayNotification({
        headers,
        rawBody,
        now: at,
        platformKeys,
        apiV3Key: options.apiV3Key,
        appId: options.appId,
        mchId: mchid,
      });
    },

    answer: (accepted: boolean) => wechatpayAnswer(accepted),

    async queryOrder(outTradeNo: string): Promise<PaymentNotification | null> {
      const answer = await call("query", "GET", `${tradePath(outTradeNo)}?mchid=${encodeURIComponent(mchid)}`);
      if (!isOk(answer)) {
        // Only a signed "no such order" is believed; anything else is an error.
        if (answer.signed && answer.code === "ORDER_NOT_EXIST") return null;
        throw failure("query", answer);
      }
      const trade = json("query", answer, transactionSchema);
      if (trade.appid !== options.appId || trade.mchid !== mchid || trade.out_trade_no !== outTradeNo)
        throw new WechatpayGatewayError("format", answer.status, null, "query: the answer is for another trade");
      if (trade.amount?.currency !== undefined && trade.amount.currency !== "CNY")
        throw new WechatpayGatewayError("format", answer.status, null, `query: currency ${trade.amount.currency}`);
      const state = trade.trade_state;
      // Not paid (yet): the collector may still pay; at expiry the trade is closed.
      if (state === "NOTPAY" || state === "USERPAYING" || state === "PAYERROR") return null;
      const amountFen = trade.amount?.total;
      if (amountFen === undefined)
        throw new WechatpayGatewayError("format", answer.status, null, `query: ${state} without an amount`);
      const tradeNo = trade.transaction_id ?? "";
      const base = { provider: "wechatpay", appId: options.appId, outTradeNo, tradeNo, amountFen };
      // REFUND: it was paid; the refund itself is reported by its own notification.
      if (state === "SUCCESS" || state === "REFUND") {
        if (tradeNo === "")
          throw new WechatpayGatewayError("format", answer.status, null, "query: paid without transaction_id");
        const occurredAt = trade.success_time ? parseWechatpayTime(trade.success_time) : now();
        return { ...base, kind: "paid", occurredAt, notifyId: `query-${tradeNo}-paid` };
      }
      if (state === "CLOSED" || state === "REVOKED")
        return { ...base, kind: "closed", occurredAt: now(), notifyId: `query-${outTradeNo}-closed` };
      throw new PaymentOperationError("invalid-request", `query: unknown trade_state ${state}`);
    },

    async closeOrder(outTradeNo: string): Promise<void> {
      const answer = await call("close", "POST", `${tradePath(outTradeNo)}/close`, { mchid });
      if (isOk(answer)) return;
      // Closing a trade already closed, or one WeChat Pay never saw, changes nothing.
      if (answer.signed && (answer.code === "ORDER_CLOSED" || answer.code === "ORDER_NOT_EXIST")) return;
      throw failure("close", answer);
    },

    async refund({ outTradeNo, refundNo, refundFen, totalFen }): Promise<{ accepted: boolean }> {
      if (!Number.isSafeInteger(refundFen) || refundFen <= 0 || !Number.isSafeInteger(totalFen) || refundFen > totalFen)
        throw new PaymentOperationError("invalid-request", "refundFen must be a positive integer, at most totalFen");
      const answer = await call("refund", "POST", "/v3/refund/domestic/refunds", {
        out_trade_no: outTradeNo,
        out_refund_no: refundNo,
        ...(options.refundNotifyUrl ? { notify_url: options.refundNotifyUrl } : {}),
        amount: { refund: refundFen, total: totalFen, currency: "CNY" },
      });
      if (!isOk(answer)) {
        // A trade WeChat Pay does not know is an error; other signed business refusals (NOT_ENOUGH,
        // INVALID_REQUEST for an over-refund, ...) are a refund not accepted, as with Alipay.
        const business = answer.signed && answer.status >= 400 && answer.status < 500 && answer.status !== 429;
        if (business && answer.code !== "RESOURCE_NOT_EXISTS" && answer.code !== "PARAM_ERROR")
          return { accepted: false };
        throw failure("refund", answer);
      }
      const refund = json("refund", answer, refundSchema);
      return { accepted: refund.status === "SUCCESS" || refund.status === "PROCESSING" };
    },

    async statement(day: string): Promise<ProviderStatement> {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day))
        throw new PaymentOperationError("invalid-request", "day must be YYYY-MM-DD");
      const query = `bill_date=${day}&bill_type=ALL${gzipBills ? "&tar_type=GZIP" : ""}`;
      let answer: Answer;
      try {
        answer = await call("tradebill", "GET", `/v3/bill/tradebill?${query}`);
      } catch (error) {
        if (!(error instanceof WechatpayGatewayError)) throw error;
        throw new PaymentStatementError(error.reason === "signature" ? "signature" : "unavailable", error.message);
      }
      if (!isOk(answer)) {
        // A signed "no bill": no successful trade that day, so an empty bill. Not generated yet: not ready.
        if (answer.signed && answer.code === "NO_STATEMENT_EXIST") return { provider: "wechatpay", day, rows: [] };
        if (answer.signed && answer.code === "STATEMENT_CREATING")
          throw new PaymentStatementError("not-ready", "tradebill: the bill is being generated");
        const error = failure("tradebill", answer);
        throw new PaymentStatementError(
          error instanceof PaymentOperationError && error.code === "invalid-request" ? "format" : "unavailable",
          error.message,
        );
      }
      const parsed = billSchema.safeParse(safeJson(answer.body));
      if (!parsed.success) throw new PaymentStatementError("format", "tradebill: unexpected answer body");
      const file = await download(parsed.data.download_url);
      // The file is unsigned: the SHA1 in the signed answer is what vouches for it.
      const digest = createHash("sha1").update(file).digest();
      if (!timingSafeEqual(digest, Buffer.from(parsed.data.hash_value, "hex")))
        throw new PaymentStatementError("digest", "billdownload: the file does not match its SHA1");
      try {
        return { provider: "wechatpay", day, rows: parseWechatpayTradeBill(file.toString("utf8")).rows };
      } catch (error) {
        throw new PaymentStatementError("format", `billdownload: ${(error as Error).message}`);
      }
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
