import { type KeyObject, createHash, randomBytes, randomUUID, verify } from "node:crypto";
import { gzipSync } from "node:zlib";
import { type AddressInfo } from "node:net";
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";

import {
  type WechatpayRefund,
  type WechatpayTransaction,
  WECHATPAY_MAX_CLOCK_SKEW_MS,
  buildWechatpayNotification,
  formatWechatpayTime,
  signWechatpayMessage,
} from "../../../server/providers/payments/wechatpay-crypto.js";
import { formatChinaTime } from "../../../server/providers/payments/alipay-notification.js";
import { formatYuan, parseYuanToFen } from "../../../server/providers/payments/alipay-signature.js";
import { WECHATPAY_TRADE_BILL_COLUMNS } from "../../../server/providers/payments/wechatpay-bill.js";
import { parseWechatpayAuthorization, wechatpayRequestMessage } from "../../../server/providers/payments/wechatpay.js";

/**
 * A local stand-in for WeChat Pay's API v3 (api.mch.weixin.qq.com): Native
 * order, query by out_trade_no, close and domestic refund. A request whose
 * `Authorization` does not verify against the merchant's public key (or is
 * for another merchant, certificate serial, or too far from the clock) is
 * answered 401 SIGN_ERROR, unsigned, as WeChat Pay does. Every other answer is
 * signed with the platform private key over `timestamp\nnonce\nbody\n` and
 * carries the platform public key id in `Wechatpay-Serial`.
 *
 * Trade bills: `GET /v3/bill/tradebill` builds the day's bill from the trades
 * (a SUCCESS line per payment that day, a REFUND line per refund completed
 * that day) and answers its SHA1 and a `download_url` on this server;
 * `GET /v3/billdownload/file` (signed request, unsigned answer, as WeChat Pay
 * does) serves the file, gzipped when asked with tar_type=GZIP.
 */
export interface StandInWechatTrade {
  appid: string;
  mchid: string;
  outTradeNo: string;
  transactionId: string;
  description: string;
  totalFen: number;
  timeExpire: string;
  notifyUrl: string;
  codeUrl: string;
  state: "NOTPAY" | "SUCCESS" | "REFUND" | "CLOSED";
  successTime?: string;
  refunds: Map<string, StandInWechatRefund>;
}

export interface StandInWechatRefund {
  outRefundNo: string;
  refundId: string;
  refundFen: number;
  notifyUrl: string | undefined;
  status: "PROCESSING" | "SUCCESS";
  /** When the refund completed (RFC 3339), once it has. */
  successTime?: string;
}

export interface StandInWechatRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
  body: string;
  /** The Authorization signature verified against the merchant key. */
  verified: boolean;
}

export interface WechatpayGatewayStandIn {
  /** The base URL to give the provider as its gateway. */
  url: string;
  trades: Map<string, StandInWechatTrade>;
  requests: StandInWechatRequest[];
  /** The collector pays: the trade becomes SUCCESS. */
  pay(outTradeNo: string, at?: Date): StandInWechatTrade;
  /** The TRANSACTION.SUCCESS notification of a paid trade, as WeChat Pay would post it. */
  paymentNotification(outTradeNo: string, now?: Date): { headers: Record<string, string>; body: string };
  /** Completes a refund and builds its REFUND.SUCCESS notification. */
  refundNotification(
    outTradeNo: string,
    outRefundNo: string,
    now?: Date,
  ): { headers: Record<string, string>; body: string };
  /** Posts a notification to a URL; resolves with the merchant's answer. */
  post(
    url: string,
    notification: { headers: Record<string, string>; body: string },
  ): Promise<{ status: number; body: string }>;
  /** The next answer: a garbage signature, a body altered after signing, no signature, or no answer at all. */
  misbehaveNext(how: "forge" | "tamper" | "unsigned" | "hang" | "stale"): void;
  /** The next tradebill answer's download_url is on this origin instead of the stand-in's. */
  redirectNextBill(origin: string): void;
  /** The next bill file served is altered after its SHA1 was given (a tampered download). */
  tamperNextBill(): void;
  /** The trade bill text of a China day as the stand-in would serve it (null: no line that day). */
  tradeBill(day: string): string | null;
  /** The next request is refused with this HTTP status and error code (signed, like WeChat Pay's). */
  failNext(status: number, code: string, message?: string): void;
  close(): Promise<void>;
}

const BILL_COLUMNS = WECHATPAY_TRADE_BILL_COLUMNS;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

export async function startWechatpayGateway(input: {
  appId: string;
  mchId: string;
  mchSerial: string;
  merchantPublicKey: KeyObject;
  platformPrivateKey: KeyObject;
  platformPublicKeyId: string;
  apiV3Key: string;
}): Promise<WechatpayGatewayStandIn> {
  const trades = new Map<string, StandInWechatTrade>();
  const requests: StandInWechatRequest[] = [];
  let misbehave: "forge" | "tamper" | "unsigned" | "hang" | "stale" | null = null;
  let nextFailure: { status: number; code: string; message: string } | null = null;
  let sequence = 0;
  let tamperBill = false;
  let billOrigin: string | null = null;
  const billFiles = new Map<string, Buffer>();

  function send(response: ServerResponse, status: number, payload: unknown, signed = true) {
    const how = misbehave;
    misbehave = null;
    if (how === "hang") return; // never answered; the client must give up on its own
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const headers: Record<string, string> = { "Request-ID": randomUUID() };
    if (body !== "") headers["Content-Type"] = "application/json; charset=utf-8";
    if (signed && how !== "unsigned") {
      const at = how === "stale" ? Date.now() - 2 * WECHATPAY_MAX_CLOCK_SKEW_MS : Date.now();
      const timestamp = String(Math.floor(at / 1000));
      const nonce = randomBytes(16).toString("hex");
      headers["Wechatpay-Timestamp"] = timestamp;
      headers["Wechatpay-Nonce"] = nonce;
      headers["Wechatpay-Serial"] = input.platformPublicKeyId;
      headers["Wechatpay-Signature"] =
        how === "forge"
          ? randomBytes(256).toString("base64")
          : signWechatpayMessage(timestamp, nonce, body, input.platformPrivateKey);
    }
    response.writeHead(status, headers);
    // "tamper": the signature above covers the original body, not this one.
    response.end(how === "tamper" ? body.replace(/weixin:\/\/|"SUCCESS"|"PROCESSING"|"SHA1"/, (m) => `${m} `) : body);
  }
  /** A bill file: WeChat Pay does not sign it. */
  function sendFile(response: ServerResponse, bytes: Buffer) {
    response.writeHead(200, {
      "Request-ID": randomUUID(),
      "Content-Type": "application/octet-stream",
      "Content-Length": String(bytes.length),
    });
    response.end(bytes);
  }
  const error = (response: ServerResponse, status: number, code: string, message = code) =>
    send(response, status, { code, message }, status !== 401);

  function authenticate(request: IncomingMessage, path: string, body: string): boolean {
    const fields = parseWechatpayAuthorization(request.headers.authorization);
    if (!fields) return false;
    const { mchid, nonce_str: nonce, signature, timestamp, serial_no: serial } = fields;
    if (mchid !== input.mchId || serial !== input.mchSerial || !nonce || !signature || !timestamp) return false;
    if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() - Number(timestamp) * 1000) > WECHATPAY_MAX_CLOCK_SKEW_MS)
      return false;
    try {
      return verify(
        "sha256",
        Buffer.from(wechatpayRequestMessage(request.method ?? "", path, timestamp, nonce, body), "utf8"),
        input.merchantPublicKey,
        Buffer.from(signature, "base64"),
      );
    } catch {
      return false;
    }
  }

  const transactionOf = (trade: StandInWechatTrade): WechatpayTransaction => ({
    appid: trade.appid,
    mchid: trade.mchid,
    out_trade_no: trade.outTradeNo,
    ...(trade.state === "NOTPAY" || trade.state === "CLOSED" ? {} : { transaction_id: trade.transactionId }),
    trade_type: "NATIVE",
    trade_state: trade.state,
    trade_state_desc: trade.state,
    ...(trade.successTime ? { success_time: trade.successTime, bank_type: "OTHERS" } : {}),
    ...(trade.state === "NOTPAY" || trade.state === "CLOSED"
      ? {}
      : { payer: { openid: "oStandInPayerOpenId000000000" } }),
    amount: {
      total: trade.totalFen,
      currency: "CNY",
      ...(trade.successTime ? { payer_total: trade.totalFen, payer_currency: "CNY" } : {}),
    },
  });

  const billField = (value: string) => `\`${value}`;
  const chinaDayOf = (rfc3339: string) => formatChinaTime(new Date(rfc3339)).slice(0, 10);

  function tradeBill(day: string): string | null {
    const lines: { at: number; fields: string[] }[] = [];
    const line = (trade: StandInWechatTrade, at: string, refund?: StandInWechatRefund) => {
      const values: Record<(typeof BILL_COLUMNS)[number], string> = {
        交易时间: formatChinaTime(new Date(at)),
        公众账号ID: trade.appid,
        商户号: trade.mchid,
        特约商户号: "0",
        设备号: "",
        微信订单号: trade.transactionId,
        商户订单号: trade.outTradeNo,
        用户标识: "oStandInPayerOpenId000000000",
        交易类型: "NATIVE",
        交易状态: refund ? "REFUND" : "SUCCESS",
        付款银行: "OTHERS",
        货币种类: "CNY",
        应结订单金额: refund ? "0.00" : formatYuan(trade.totalFen),
        代金券金额: "0.00",
        微信退款单号: refund?.refundId ?? "0",
        商户退款单号: refund?.outRefundNo ?? "0",
        退款金额: formatYuan(refund?.refundFen ?? 0),
        充值券退款金额: "0.00",
        退款类型: refund ? "ORIGINAL" : "",
        退款状态: refund ? "SUCCESS" : "",
        商品名称: trade.description,
        商户数据包: "",
        手续费: formatYuan(refund ? 0 : Math.round(trade.totalFen * 0.006)),
        费率: "0.60%",
        订单金额: formatYuan(trade.totalFen),
        申请退款金额: formatYuan(refund?.refundFen ?? 0),
        费率备注: "",
      };
      lines.push({ at: new Date(at).getTime(), fields: BILL_COLUMNS.map((column) => values[column]) });
    };
    for (const trade of trades.values()) {
      if (trade.successTime && chinaDayOf(trade.successTime) === day) line(trade, trade.successTime);
      for (const refund of trade.refunds.values())
        if (refund.successTime && chinaDayOf(refund.successTime) === day) line(trade, refund.successTime, refund);
    }
    if (lines.length === 0) return null;
    lines.sort((a, b) => a.at - b.at);
    const column = (name: (typeof BILL_COLUMNS)[number]) => BILL_COLUMNS.indexOf(name);
    const sum = (name: (typeof BILL_COLUMNS)[number]) =>
      formatYuan(lines.reduce((total, l) => total + Math.round(Number(l.fields[column(name)]) * 100), 0));
    return [
      BILL_COLUMNS.join(","),
      ...lines.map((l) => l.fields.map(billField).join(",")),
      "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额",
      [
        String(lines.length),
        sum("应结订单金额"),
        sum("退款金额"),
        "0.00",
        sum("手续费"),
        sum("订单金额"),
        sum("申请退款金额"),
      ]
        .map(billField)
        .join(","),
      "",
    ].join("\r\n");
  }

  function handle(response: ServerResponse, method: string, url: URL, raw: string) {
    let body: Record<string, unknown> = {};
    if (raw !== "") {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return error(response, 400, "PARAM_ERROR", "body is not JSON");
      }
    }
    const amount = (body.amount ?? {}) as Record<string, unknown>;
    const tradeMatch = /^\/v3\/pay\/transactions\/out-trade-no\/([^/]+)(\/close)?$/.exec(url.pathname);

    if (method === "POST" && url.pathname === "/v3/pay/transactions/native") {
      if (body.appid !== input.appId || body.mchid !== input.mchId)
        return error(response, 400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配");
      const total = amount.total;
      if (!Number.isSafeInteger(total) || (total as number) <= 0 || amount.currency !== "CNY")
        return error(response, 400, "PARAM_ERROR", "amount");
      if (typeof body.time_expire !== "string" || !RFC3339.test(body.time_expire))
        return error(response, 400, "PARAM_ERROR", "time_expire");
      if (typeof body.notify_url !== "string" || !/^https?:\/\//.test(body.notify_url))
        return error(response, 400, "PARAM_ERROR", "notify_url");
      const outTradeNo = String(body.out_trade_no ?? "");
      if (!/^[A-Za-z0-9_\-*|]{6,32}$/.test(outTradeNo)) return error(response, 400, "PARAM_ERROR", "out_trade_no");
      const existing = trades.get(outTradeNo);
      if (existing) {
        if (existing.state === "SUCCESS" || existing.state === "REFUND")
          return error(response, 400, "ORDERPAID", "该订单已支付");
        if (existing.state === "CLOSED") return error(response, 400, "ORDER_CLOSED", "订单已关闭");
        if (existing.totalFen !== total) return error(response, 403, "OUT_TRADE_NO_USED", "商户订单号重复");
        return send(response, 200, { code_url: existing.codeUrl });
      }
      sequence++;
      const trade: StandInWechatTrade = {
        appid: input.appId,
        mchid: input.mchId,
        outTradeNo,
        transactionId: `42000000002026120${String(sequence).padStart(11, "0")}`,
        description: String(body.description ?? ""),
        totalFen: total as number,
        timeExpire: body.time_expire,
        notifyUrl: body.notify_url,
        codeUrl: `weixin://wxpay/bizpayurl?pr=StandIn${String(sequence).padStart(4, "0")}`,
        state: "NOTPAY",
        refunds: new Map(),
      };
      trades.set(outTradeNo, trade);
      return send(response, 200, { code_url: trade.codeUrl });
    }

    if (tradeMatch) {
      const trade = trades.get(decodeURIComponent(tradeMatch[1]!));
      if (method === "GET" && !tradeMatch[2]) {
        if (url.searchParams.get("mchid") !== input.mchId) return error(response, 400, "PARAM_ERROR", "mchid");
        if (!trade) return error(response, 404, "ORDER_NOT_EXIST", "订单不存在");
        return send(response, 200, transactionOf(trade));
      }
      if (method === "POST" && tradeMatch[2]) {
        if (body.mchid !== input.mchId) return error(response, 400, "PARAM_ERROR", "mchid");
        if (!trade) return error(response, 404, "ORDER_NOT_EXIST", "订单不存在");
        if (trade.state === "SUCCESS" || trade.state === "REFUND")
          return error(response, 400, "ORDERPAID", "订单已支付");
        trade.state = "CLOSED";
        return send(response, 204, undefined);
      }
    }

    if (method === "POST" && url.pathname === "/v3/refund/domestic/refunds") {
      const trade = trades.get(String(body.out_trade_no ?? ""));
      if (!trade) return error(response, 404, "RESOURCE_NOT_EXISTS", "订单不存在");
      if (trade.state !== "SUCCESS" && trade.state !== "REFUND")
        return error(response, 400, "INVALID_REQUEST", "订单未支付");
      const refundFen = amount.refund;
      if (!Number.isSafeInteger(refundFen) || (refundFen as number) <= 0 || amount.currency !== "CNY")
        return error(response, 400, "PARAM_ERROR", "amount.refund");
      if (amount.total !== trade.totalFen) return error(response, 400, "PARAM_ERROR", "amount.total");
      const outRefundNo = String(body.out_refund_no ?? "");
      let refund = trade.refunds.get(outRefundNo);
      if (!refund) {
        const refunded = [...trade.refunds.values()].reduce((sum, r) => sum + r.refundFen, 0);
        if (refunded + (refundFen as number) > trade.totalFen)
          return error(response, 400, "INVALID_REQUEST", "申请退款金额超过订单可退金额");
        refund = {
          outRefundNo,
          refundId: `50300000002026120${String(++sequence).padStart(11, "0")}`,
          refundFen: refundFen as number,
          notifyUrl: typeof body.notify_url === "string" ? body.notify_url : undefined,
          status: "PROCESSING",
        };
        trade.refunds.set(outRefundNo, refund);
        trade.state = "REFUND";
      }
      return send(response, 200, {
        refund_id: refund.refundId,
        out_refund_no: refund.outRefundNo,
        transaction_id: trade.transactionId,
        out_trade_no: trade.outTradeNo,
        channel: "ORIGINAL",
        user_received_account: "支付用户零钱",
        create_time: formatWechatpayTime(new Date()),
        status: refund.status,
        amount: {
          total: trade.totalFen,
          refund: refund.refundFen,
          payer_total: trade.totalFen,
          payer_refund: refund.refundFen,
          currency: "CNY",
        },
      });
    }
    if (method === "GET" && url.pathname === "/v3/bill/tradebill") {
      const day = url.searchParams.get("bill_date") ?? "";
      const billType = url.searchParams.get("bill_type") ?? "ALL";
      const tarType = url.searchParams.get("tar_type");
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return error(response, 400, "PARAM_ERROR", "bill_date");
      if (billType !== "ALL") return error(response, 400, "PARAM_ERROR", "bill_type (the stand-in serves ALL)");
      if (tarType !== null && tarType !== "GZIP") return error(response, 400, "PARAM_ERROR", "tar_type");
      const text = tradeBill(day);
      if (text === null) return error(response, 400, "NO_STATEMENT_EXIST", "账单文件不存在");
      const original = Buffer.from(text, "utf8");
      const hash = createHash("sha1").update(original).digest("hex");
      let served = original;
      if (tamperBill) {
        tamperBill = false;
        // One more yuan settled on the first trade line: what a man in the middle might write.
        const altered = text.replace(
          /`(\d+\.\d\d),`0\.00,`0,`0,/,
          (_match, yuan: string) => `\`${formatYuan(parseYuanToFen(yuan) + 100)},\`0.00,\`0,\`0,`,
        );
        served = Buffer.from(altered, "utf8");
      }
      const token = randomBytes(12).toString("hex");
      billFiles.set(token, tarType === "GZIP" ? gzipSync(served) : served);
      const origin = billOrigin ?? url.origin;
      billOrigin = null;
      return send(response, 200, {
        hash_type: "SHA1",
        hash_value: hash,
        download_url: `${origin}/v3/billdownload/file?token=${token}`,
      });
    }

    if (method === "GET" && url.pathname === "/v3/billdownload/file") {
      const file = billFiles.get(url.searchParams.get("token") ?? "");
      if (!file) return error(response, 400, "PARAM_ERROR", "token");
      return sendFile(response, file);
    }
    return error(response, 404, "NOT_FOUND", "no such API");
  }

  const server: Server = createServer((request, response) => {
    let raw = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (raw += chunk));
    request.on("end", () => {
      const path = request.url ?? "/";
      const url = new URL(path, `http://${request.headers.host ?? "stand-in"}`);
      const verified = authenticate(request, path, raw);
      requests.push({
        method: request.method ?? "",
        path,
        headers: Object.fromEntries(
          Object.entries(request.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(", ") : v]),
        ),
        body: raw,
        verified,
      });
      if (!verified) return error(response, 401, "SIGN_ERROR", "签名错误");
      if (nextFailure) {
        const { status, code, message } = nextFailure;
        nextFailure = null;
        return error(response, status, code, message);
      }
      handle(response, request.method ?? "", url, raw);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const tradeOf = (outTradeNo: string) => {
    const trade = trades.get(outTradeNo);
    if (!trade) throw new Error(`stand-in: no trade ${outTradeNo}`);
    return trade;
  };
  const notificationOf = (resource: WechatpayTransaction | WechatpayRefund, now?: Date) =>
    buildWechatpayNotification({
      resource,
      apiV3Key: input.apiV3Key,
      platformPrivateKey: input.platformPrivateKey,
      serial: input.platformPublicKeyId,
      ...(now ? { now } : {}),
    });

  return {
    url: `http://127.0.0.1:${port}`,
    trades,
    requests,
    pay(outTradeNo, at = new Date()) {
      const trade = tradeOf(outTradeNo);
      trade.state = "SUCCESS";
      trade.successTime = formatWechatpayTime(at);
      return trade;
    },
    paymentNotification(outTradeNo, now) {
      return notificationOf(transactionOf(tradeOf(outTradeNo)), now);
    },
    refundNotification(outTradeNo, outRefundNo, now) {
      const trade = tradeOf(outTradeNo);
      const refund = trade.refunds.get(outRefundNo);
      if (!refund) throw new Error(`stand-in: no refund ${outRefundNo}`);
      refund.status = "SUCCESS";
      refund.successTime = formatWechatpayTime(now ?? new Date());
      return notificationOf(
        {
          mchid: trade.mchid,
          out_trade_no: trade.outTradeNo,
          transaction_id: trade.transactionId,
          out_refund_no: refund.outRefundNo,
          refund_id: refund.refundId,
          refund_status: "SUCCESS",
          success_time: formatWechatpayTime(now ?? new Date()),
          user_received_account: "支付用户零钱",
          amount: {
            total: trade.totalFen,
            refund: refund.refundFen,
            payer_total: trade.totalFen,
            payer_refund: refund.refundFen,
          },
        },
        now,
      );
    },
    async post(url, notification) {
      const response = await fetch(url, { method: "POST", headers: notification.headers, body: notification.body });
      return { status: response.status, body: await response.text() };
    },
    misbehaveNext(how) {
      misbehave = how;
    },
    redirectNextBill(origin) {
      billOrigin = origin;
    },
    tamperNextBill() {
      tamperBill = true;
    },
    tradeBill,
    failNext(status, code, message = code) {
      nextFailure = { status, code, message };
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
