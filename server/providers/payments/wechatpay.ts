import { type KeyObject, createPrivateKey } from "node:crypto";

import { z } from "zod";

import {
  type WechatpayKey,
  formatWechatpayTime,
  parseWechatpayNotification,
  parseWechatpayTime,
  wechatpayAnswer,
} from "./wechatpay-crypto.js";
import {
  type WechatpayAnswer,
  WechatpayGatewayError,
  createWechatpayGateway,
  failure,
  isOk,
  json,
} from "./wechatpay-gateway.js";
import { wechatpayStatement } from "./wechatpay-statement.js";
import {
  type PaymentIntent,
  type PaymentIntentRequest,
  type PaymentNotification,
  type PaymentProvider,
  type ProviderStatement,
  PaymentOperationError,
} from "./types.js";

export { WechatpayGatewayError, parseWechatpayAuthorization, wechatpayRequestMessage } from "./wechatpay-gateway.js";

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

/** A 2xx answer to the order query as what the trade came to (null: not paid yet). */
function queriedTrade(
  answer: WechatpayAnswer,
  expected: { appId: string; mchid: string; outTradeNo: string },
  now: () => Date,
): PaymentNotification | null {
  const { appId, mchid, outTradeNo } = expected;
  const trade = json("query", answer, transactionSchema);
  if (trade.appid !== appId || trade.mchid !== mchid || trade.out_trade_no !== outTradeNo)
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
  const base = { provider: "wechatpay", appId, outTradeNo, tradeNo, amountFen };
  // Only SUCCESS is a payment to deliver. REFUND (paid, then refunded at WeChat Pay, perhaps while our
  // notification was lost) is reported as refunded, never as paid: no mint comes of it.
  if (state === "REFUND")
    return { ...base, kind: "refunded", occurredAt: now(), notifyId: `query-${outTradeNo}-refund` };
  if (state === "SUCCESS") {
    if (tradeNo === "")
      throw new WechatpayGatewayError("format", answer.status, null, "query: paid without transaction_id");
    const occurredAt = trade.success_time ? parseWechatpayTime(trade.success_time) : now();
    return { ...base, kind: "paid", occurredAt, notifyId: `query-${tradeNo}-paid` };
  }
  if (state === "CLOSED" || state === "REVOKED")
    return { ...base, kind: "closed", occurredAt: now(), notifyId: `query-${outTradeNo}-closed` };
  throw new PaymentOperationError("invalid-request", `query: unknown trade_state ${state}`);
}

const tradePath = (outTradeNo: string) => `/v3/pay/transactions/out-trade-no/${encodeURIComponent(outTradeNo)}`;

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
  const api = createWechatpayGateway({
    gateway,
    mchId: mchid,
    mchSerial: options.mchSerial,
    privateKey,
    platformPublicKeyId: options.platformPublicKeyId,
    platformKeys,
    timeoutMs,
    now,
  });
  const billOptions = {
    gateway,
    gzipBills: options.gzipBills ?? true,
    maxBillBytes: options.maxBillBytes ?? 64 * 1024 * 1024,
    timeoutMs,
  };

  return {
    name: "wechatpay",

    async createIntent(request: PaymentIntentRequest): Promise<PaymentIntent> {
      const { outTradeNo, amountFen, subject, expiresAt, notifyUrl } = request;
      if (!Number.isSafeInteger(amountFen) || amountFen <= 0)
        throw new PaymentOperationError("invalid-request", "amountFen must be a positive integer");
      const answer = await api.call("native", "POST", "/v3/pay/transactions/native", {
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
      const answer = await api.call("query", "GET", `${tradePath(outTradeNo)}?mchid=${encodeURIComponent(mchid)}`);
      if (!isOk(answer)) {
        // Only a signed "no such order" is believed; anything else is an error.
        if (answer.signed && answer.code === "ORDER_NOT_EXIST") return null;
        throw failure("query", answer);
      }
      return queriedTrade(answer, { appId: options.appId, mchid, outTradeNo }, now);
    },

    async closeOrder(outTradeNo: string): Promise<void> {
      const answer = await api.call("close", "POST", `${tradePath(outTradeNo)}/close`, { mchid });
      if (isOk(answer)) return;
      // Closing a trade already closed, or one WeChat Pay never saw, changes nothing.
      if (answer.signed && (answer.code === "ORDER_CLOSED" || answer.code === "ORDER_NOT_EXIST")) return;
      throw failure("close", answer);
    },

    async refund({ outTradeNo, refundNo, refundFen, totalFen }): Promise<{ accepted: boolean }> {
      if (!Number.isSafeInteger(refundFen) || refundFen <= 0 || !Number.isSafeInteger(totalFen) || refundFen > totalFen)
        throw new PaymentOperationError("invalid-request", "refundFen must be a positive integer, at most totalFen");
      const answer = await api.call("refund", "POST", "/v3/refund/domestic/refunds", {
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
      return wechatpayStatement(api, day, billOptions);
    },
  };
}
