import { AlipaySdk } from "alipay-sdk";

import { type AlipayResult, alipayStatement } from "./alipay-bill.js";
import { alipayAnswer, formatChinaTime, parseChinaTime, verifyAlipayNotification } from "./alipay-notification.js";
import { type AlipayKey, formatYuan, loadAlipayPrivateKey, parseYuanToFen } from "./alipay-signature.js";
import {
  type PaymentIntent,
  type PaymentIntentRequest,
  type PaymentNotification,
  type PaymentProvider,
  type ProviderStatement,
  PaymentOperationError,
} from "./types.js";

/** The live Alipay provider: 当面付 precreate (a QR code), query, close and refund through the official SDK. */
export interface AlipayProviderOptions {
  appId: string;
  /** Our seller id (2088…); when given, notifications for another `seller_id` are refused. */
  sellerId?: string;
  /** The merchant's application private key (PEM or bare base64). */
  privateKey: string;
  /** Alipay's public key (PEM or bare base64), for responses and notifications. */
  alipayPublicKey: string;
  /** The gateway; Alipay's production gateway unless given. */
  gateway?: string;
  timeoutMs?: number;
  /**
   * Where bill files may be downloaded from: origins ("https://host[:port]"),
   * or host suffixes (".alipay.com"); Alipay's own HTTPS hosts unless given.
   * The file is unsigned, so only HTTPS from Alipay vouches for it.
   */
  billDownloadOrigins?: readonly string[];
  /** The largest bill archive accepted, in bytes; 64 MiB unless given. */
  maxBillBytes?: number;
}

export const ALIPAY_GATEWAY = "https://openapi.alipay.com/gateway.do";

const pem = (label: string, key: string) =>
  key.includes("-----BEGIN")
    ? key
    : `-----BEGIN ${label}-----\n${(key.replace(/\s+/g, "").match(/.{1,64}/g) ?? []).join("\n")}\n-----END ${label}-----\n`;

/** A refused call as the error the provider's callers expect (trade unknown, already paid or closed, …). */
function failure(method: string, result: AlipayResult): PaymentOperationError {
  return new PaymentOperationError(
    result.sub_code === "ACQ.TRADE_NOT_EXIST"
      ? "unknown-trade"
      : result.sub_code === "ACQ.TRADE_HAS_SUCCESS"
        ? "trade-paid"
        : result.sub_code === "ACQ.TRADE_HAS_CLOSE"
          ? "trade-closed"
          : "invalid-request",
    `${method}: ${result.code} ${result.sub_code ?? result.msg}`,
  );
}

export function createAlipayPaymentProvider(options: AlipayProviderOptions): PaymentProvider {
  // The SDK wants PEM text; normalising here lets the console's bare base64 be used as is.
  const privateKeyPem = loadAlipayPrivateKey(options.privateKey as AlipayKey)
    .export({ type: "pkcs8", format: "pem" })
    .toString();
  const alipayPublicKeyPem = pem("PUBLIC KEY", options.alipayPublicKey);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sdk = new AlipaySdk({
    appId: options.appId,
    privateKey: privateKeyPem,
    keyType: "PKCS8",
    alipayPublicKey: alipayPublicKeyPem,
    gateway: options.gateway ?? ALIPAY_GATEWAY,
    timeout: timeoutMs,
    camelcase: false,
  });

  async function call(method: string, bizContent: Record<string, unknown>, extra: Record<string, string> = {}) {
    // validateSign: a response not signed by Alipay's key throws instead of being believed.
    const result = (await sdk.exec(
      method,
      { ...extra, bizContent },
      { validateSign: true },
    )) as unknown as AlipayResult;
    return result;
  }

  const billLimits = {
    origins: options.billDownloadOrigins ?? [".alipay.com", ".alipayobjects.com"],
    timeoutMs,
    maxBytes: options.maxBillBytes ?? 64 * 1024 * 1024,
  };

  return {
    name: "alipay",

    async createIntent(request: PaymentIntentRequest): Promise<PaymentIntent> {
      const { outTradeNo, amountFen, subject, expiresAt, notifyUrl } = request;
      if (!Number.isSafeInteger(amountFen) || amountFen <= 0)
        throw new PaymentOperationError("invalid-request", "amountFen must be a positive integer");
      const minutes = Math.max(1, Math.floor((expiresAt.getTime() - Date.now()) / 60_000));
      const result = await call(
        "alipay.trade.precreate",
        {
          out_trade_no: outTradeNo,
          total_amount: formatYuan(amountFen),
          subject,
          // Relative and absolute windows: Alipay closes the trade at whichever comes first.
          timeout_express: `${minutes}m`,
          time_expire: formatChinaTime(expiresAt),
        },
        { notify_url: notifyUrl },
      );
      if (result.code !== "10000" || typeof result.qr_code !== "string") throw failure("precreate", result);
      return { provider: "alipay", outTradeNo, qrCode: result.qr_code };
    },

    parseNotification(_headers, rawBody, _now): PaymentNotification {
      return verifyAlipayNotification(rawBody, {
        publicKey: alipayPublicKeyPem,
        appId: options.appId,
        ...(options.sellerId === undefined ? {} : { sellerId: options.sellerId }),
      });
    },

    answer: alipayAnswer,

    async queryOrder(outTradeNo: string): Promise<PaymentNotification | null> {
      const result = await call("alipay.trade.query", { out_trade_no: outTradeNo });
      if (result.code !== "10000") {
        if (result.sub_code === "ACQ.TRADE_NOT_EXIST") return null;
        throw failure("query", result);
      }
      const status = String(result.trade_status);
      if (status === "WAIT_BUYER_PAY") return null;
      const amountFen = parseYuanToFen(String(result.total_amount));
      const tradeNo = String(result.trade_no);
      const paidAt = typeof result.send_pay_date === "string" ? parseChinaTime(result.send_pay_date) : new Date();
      const base = { provider: "alipay", appId: options.appId, outTradeNo, tradeNo, amountFen };
      if (status === "TRADE_SUCCESS" || status === "TRADE_FINISHED")
        return { ...base, kind: "paid", occurredAt: paidAt, notifyId: `query-${tradeNo}-paid` };
      if (status === "TRADE_CLOSED")
        return { ...base, kind: "closed", occurredAt: new Date(), notifyId: `query-${tradeNo}-closed` };
      throw new PaymentOperationError("invalid-request", `query: unknown trade_status ${status}`);
    },

    async closeOrder(outTradeNo: string): Promise<void> {
      const result = await call("alipay.trade.close", { out_trade_no: outTradeNo });
      if (result.code === "10000") return;
      // Closing a trade Alipay never saw (no scan yet) or already closed changes nothing.
      if (result.sub_code === "ACQ.TRADE_NOT_EXIST" || result.sub_code === "ACQ.TRADE_HAS_CLOSE") return;
      throw failure("close", result);
    },

    async refund({ outTradeNo, refundNo, refundFen }): Promise<{ accepted: boolean }> {
      const result = await call("alipay.trade.refund", {
        out_trade_no: outTradeNo,
        out_request_no: refundNo,
        refund_amount: formatYuan(refundFen),
      });
      return { accepted: result.code === "10000" };
    },

    async statement(day: string): Promise<ProviderStatement> {
      return alipayStatement(call, day, billLimits);
    },
  };
}
