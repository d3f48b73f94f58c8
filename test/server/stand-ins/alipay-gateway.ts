import { type KeyObject, createVerify, sign } from "node:crypto";
import { type AddressInfo } from "node:net";
import { type Server, createServer } from "node:http";

import {
  buildAlipayNotificationBody,
  formatChinaTime,
} from "../../../server/providers/payments/alipay-notification.js";
import { formatYuan } from "../../../server/providers/payments/alipay-signature.js";

/**
 * A local stand-in for Alipay's OpenAPI gateway (gateway.do): verifies the
 * RSA2 request signature (all parameters but `sign`, query and form body,
 * sorted), and answers `{ "<method>_response": {...}, "sign": ... }` signed
 * with "Alipay's" key over the response object's exact JSON text.
 *
 * Like Alipay it is the party that holds the money: `pay` is the buyer
 * scanning the QR code, after which (and after each new refund) it sends an
 * RSA2-signed asynchronous notification to the trade's notify_url and sends
 * it again, every `notifyRetryMs`, until the answer is `success`. A refund
 * retried with the same out_request_no is answered again, never paid twice.
 */
export interface StandInTrade {
  outTradeNo: string;
  tradeNo: string;
  amountFen: number;
  subject: string;
  notifyUrl: string;
  status: "WAIT_BUYER_PAY" | "TRADE_SUCCESS" | "TRADE_CLOSED";
  refunds: Map<string, number>;
  paidAt?: Date;
  refundedAt?: Date;
}

export interface AlipayGatewayStandIn {
  url: string;
  trades: Map<string, StandInTrade>;
  requests: { method: string; params: Record<string, string> }[];
  /** The next response's sign is replaced by garbage (a forged answer). */
  forgeNextResponse(): void;
  /** The buyer pays a trade waiting for payment (true), or cannot (closed, unknown: false). */
  pay(outTradeNo: string): boolean;
  /** Notifications sent (each attempt), answered `success`, and still being retried. */
  deliveries(): { attempts: number; acknowledged: number; pending: number };
  close(): Promise<void>;
}

export async function startAlipayGateway(input: {
  appId: string;
  merchantPublicKey: KeyObject;
  alipayPrivateKey: KeyObject;
  notifyRetryMs?: number;
}): Promise<AlipayGatewayStandIn> {
  const trades = new Map<string, StandInTrade>();
  const requests: AlipayGatewayStandIn["requests"] = [];
  let forge = false;
  let sequence = 0;
  let notifySequence = 0;
  let closed = false;
  const retryMs = input.notifyRetryMs ?? 500;
  const timers = new Set<NodeJS.Timeout>();
  const stats = { attempts: 0, acknowledged: 0, pending: 0 };

  /** Sends the trade's current state to its notify_url until it is acknowledged (or the stand-in closes). */
  function notify(trade: StandInTrade) {
    const refundedFen = [...trade.refunds.values()].reduce((a, b) => a + b, 0);
    const fields = {
      notify_time: formatChinaTime(new Date()),
      notify_id: `stand-in-notify-${++notifySequence}`,
      app_id: input.appId,
      trade_no: trade.tradeNo,
      out_trade_no: trade.outTradeNo,
      trade_status: trade.status,
      total_amount: formatYuan(trade.amountFen),
      gmt_payment: trade.paidAt === undefined ? undefined : formatChinaTime(trade.paidAt),
      ...(refundedFen > 0
        ? { refund_fee: formatYuan(refundedFen), gmt_refund: formatChinaTime(trade.refundedAt ?? new Date()) }
        : {}),
    };
    const body = buildAlipayNotificationBody(fields, input.alipayPrivateKey);
    stats.pending++;
    const attempt = async () => {
      if (closed) return;
      stats.attempts++;
      const answer = await fetch(trade.notifyUrl, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body,
        signal: AbortSignal.timeout(5000),
      })
        .then((response) => response.text())
        .catch(() => "");
      if (answer === "success") {
        stats.acknowledged++;
        stats.pending--;
        return;
      }
      const timer = setTimeout(() => {
        timers.delete(timer);
        void attempt();
      }, retryMs);
      timers.add(timer);
    };
    void attempt();
  }

  const answer = (method: string, body: Record<string, unknown>) => {
    const json = JSON.stringify(body);
    const signature = forge
      ? "AAAA"
      : sign("sha256", Buffer.from(json, "utf8"), input.alipayPrivateKey).toString("base64");
    forge = false;
    return `{"${method.replaceAll(".", "_")}_response":${json},"sign":"${signature}"}`;
  };
  const error = (sub: string) => ({ code: "40004", msg: "Business Failed", sub_code: sub, sub_msg: sub });

  function handle(method: string, biz: Record<string, string>, params: Record<string, string>) {
    const trade = trades.get(biz.out_trade_no ?? "");
    switch (method) {
      case "alipay.trade.precreate": {
        if (!params.notify_url || !/^\d+\.\d{2}$/.test(biz.total_amount ?? "")) return error("ACQ.INVALID_PARAMETER");
        const [yuan = "0", cents = "0"] = (biz.total_amount ?? "").split(".");
        const created: StandInTrade = {
          outTradeNo: biz.out_trade_no ?? "",
          tradeNo: `2026120222001${String(++sequence).padStart(15, "0")}`,
          amountFen: Number(yuan) * 100 + Number(cents),
          subject: biz.subject ?? "",
          notifyUrl: params.notify_url,
          status: "WAIT_BUYER_PAY",
          refunds: new Map(),
        };
        trades.set(created.outTradeNo, created);
        return {
          code: "10000",
          msg: "Success",
          out_trade_no: created.outTradeNo,
          qr_code: `https://qr.alipay.com/bax${sequence}`,
        };
      }
      case "alipay.trade.query":
        if (!trade) return error("ACQ.TRADE_NOT_EXIST");
        return {
          code: "10000",
          msg: "Success",
          trade_no: trade.tradeNo,
          out_trade_no: trade.outTradeNo,
          trade_status: trade.status,
          total_amount: formatYuan(trade.amountFen),
          send_pay_date: formatChinaTime(trade.paidAt ?? new Date()),
        };
      case "alipay.trade.close":
        if (!trade) return error("ACQ.TRADE_NOT_EXIST");
        if (trade.status === "TRADE_SUCCESS") return error("ACQ.TRADE_STATUS_ERROR");
        trade.status = "TRADE_CLOSED";
        return { code: "10000", msg: "Success", trade_no: trade.tradeNo, out_trade_no: trade.outTradeNo };
      case "alipay.trade.refund": {
        if (!trade || trade.status !== "TRADE_SUCCESS") return error("ACQ.TRADE_STATUS_ERROR");
        const [yuan = "0", cents = "0"] = (biz.refund_amount ?? "").split(".");
        const fen = Number(yuan) * 100 + Number(cents);
        const refunded = [...trade.refunds.values()].reduce((a, b) => a + b, 0);
        const requestNo = biz.out_request_no ?? "";
        const earlier = trade.refunds.get(requestNo);
        if (earlier !== undefined) {
          // The same refund asked again: answered again, not paid again.
          if (earlier !== fen) return error("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
          return {
            code: "10000",
            msg: "Success",
            trade_no: trade.tradeNo,
            out_trade_no: trade.outTradeNo,
            fund_change: "N",
            refund_fee: formatYuan(refunded),
          };
        }
        if (fen + refunded > trade.amountFen) return error("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
        trade.refunds.set(requestNo, fen);
        trade.refundedAt = new Date();
        if (fen + refunded === trade.amountFen) trade.status = "TRADE_CLOSED";
        notify(trade);
        return {
          code: "10000",
          msg: "Success",
          trade_no: trade.tradeNo,
          out_trade_no: trade.outTradeNo,
          fund_change: "Y",
          refund_fee: formatYuan(refunded + fen),
        };
      }
      default:
        return { code: "40004", msg: "Business Failed", sub_code: "isv.invalid-method" };
    }
  }

  const server: Server = createServer((request, response) => {
    let raw = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => (raw += chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://stand-in");
      const params: Record<string, string> = {};
      for (const [key, value] of url.searchParams) params[key] = value;
      for (const [key, value] of new URLSearchParams(raw)) params[key] = value;
      const method = params.method ?? "";
      requests.push({ method, params });
      const signed = Object.keys(params)
        .filter((key) => key !== "sign" && params[key] !== "")
        .sort()
        .map((key) => `${key}=${params[key]}`)
        .join("&");
      const valid =
        params.sign_type === "RSA2" &&
        createVerify("RSA-SHA256")
          .update(signed, "utf8")
          .verify(input.merchantPublicKey, params.sign ?? "", "base64");
      let body: Record<string, unknown>;
      if (!valid) body = { code: "40002", msg: "Invalid Arguments", sub_code: "isv.invalid-signature" };
      else if (params.app_id !== input.appId)
        body = { code: "40002", msg: "Invalid Arguments", sub_code: "isv.invalid-app-id" };
      else body = handle(method, JSON.parse(params.biz_content ?? "{}") as Record<string, string>, params);
      response.writeHead(200, { "content-type": "application/json;charset=utf-8" });
      response.end(answer(method, body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/gateway.do`,
    trades,
    requests,
    forgeNextResponse: () => {
      forge = true;
    },
    pay(outTradeNo) {
      const trade = trades.get(outTradeNo);
      if (trade === undefined) return false;
      if (trade.status === "TRADE_SUCCESS") return true;
      if (trade.status !== "WAIT_BUYER_PAY") return false;
      trade.status = "TRADE_SUCCESS";
      trade.paidAt = new Date();
      notify(trade);
      return true;
    },
    deliveries: () => ({ ...stats }),
    close: () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
