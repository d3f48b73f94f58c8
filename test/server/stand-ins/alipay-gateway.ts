import { type KeyObject, createVerify, randomBytes, sign } from "node:crypto";
import { crc32, deflateRawSync } from "node:zlib";
import { type AddressInfo } from "node:net";
import { type Server, createServer } from "node:http";

import {
  buildAlipayNotificationBody,
  formatChinaTime,
} from "../../../server/providers/payments/alipay-notification.js";
import { formatYuan } from "../../../server/providers/payments/alipay-signature.js";
import { ALIPAY_STATEMENT_COLUMNS } from "../../../server/providers/payments/alipay-statement.js";

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
 *
 * Bills: `alipay.data.dataservice.bill.downloadurl.query` (bill_type trade)
 * answers a `bill_download_url` on this server, which serves (unsigned, as
 * Alipay's file host does) a ZIP holding the day's detail file
 * `<pid>_<yyyyMMdd>_业务明细.csv` and its summary `…_业务明细(汇总).csv`, both
 * GBK-encoded with GBK file names, built from the trades paid or refunded that
 * China day; a day without any is `isp.bill_not_exist`.
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
  pay(outTradeNo: string, at?: Date): boolean;
  /** The next bill archive served has one byte of its detail file changed (its CRC-32 no longer matches). */
  corruptNextBill(): void;
  /** The day's detail CSV as the stand-in builds it (null: no line that day). */
  billCsv(day: string): string | null;
  /** Notifications sent (each attempt), answered `success`, and still being retried. */
  deliveries(): { attempts: number; acknowledged: number; pending: number };
  close(): Promise<void>;
}

export async function startAlipayGateway(input: {
  appId: string;
  merchantPublicKey: KeyObject;
  alipayPrivateKey: KeyObject;
  notifyRetryMs?: number;
  /** The merchant's seller id, put in every notification as `seller_id` when given. */
  sellerId?: string;
}): Promise<AlipayGatewayStandIn> {
  const trades = new Map<string, StandInTrade>();
  const requests: AlipayGatewayStandIn["requests"] = [];
  let forge = false;
  let corruptBill = false;
  const billFiles = new Map<string, Buffer>();
  let origin = "";
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
      ...(input.sellerId === undefined ? {} : { seller_id: input.sellerId }),
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

  function billCsv(day: string): string | null {
    const lines: { at: Date; values: Record<(typeof ALIPAY_STATEMENT_COLUMNS)[number], string> }[] = [];
    const line = (trade: StandInTrade, type: "交易" | "退款", at: Date, receivedFen: number, refundNo = "") => {
      const values = Object.fromEntries(ALIPAY_STATEMENT_COLUMNS.map((c) => [c, "0.00"])) as Record<
        (typeof ALIPAY_STATEMENT_COLUMNS)[number],
        string
      >;
      Object.assign(values, {
        支付宝交易号: trade.tradeNo,
        商户订单号: trade.outTradeNo,
        业务类型: type,
        商品名称: trade.subject,
        创建时间: formatChinaTime(at),
        完成时间: formatChinaTime(at),
        门店编号: "",
        门店名称: "",
        操作员: "",
        终端号: "",
        对方账户: "138****0000",
        "订单金额（元）": formatYuan(trade.amountFen),
        "商家实收（元）": formatYuan(receivedFen),
        券名称: "",
        "退款批次号/请求号": refundNo,
        备注: "",
      });
      lines.push({ at, values });
    };
    for (const trade of trades.values()) {
      if (trade.paidAt && formatChinaTime(trade.paidAt).startsWith(day))
        line(trade, "交易", trade.paidAt, trade.amountFen);
      if (trade.refundedAt && formatChinaTime(trade.refundedAt).startsWith(day))
        for (const [refundNo, fen] of trade.refunds) line(trade, "退款", trade.refundedAt, -fen, refundNo);
    }
    if (lines.length === 0) return null;
    lines.sort((a, b) => a.at.getTime() - b.at.getTime());
    const sum = (type: string) =>
      lines
        .filter((l) => l.values.业务类型 === type)
        .reduce((total, l) => total + Math.round(Number(l.values["商家实收（元）"]) * 100), 0);
    const count = (type: string) => lines.filter((l) => l.values.业务类型 === type).length;
    const rule = "-----------------------------------------";
    return [
      "#支付宝业务明细查询",
      `#账号：[${input.appId}]`,
      `#起始日期：[${day.replaceAll("-", "")} 00:00:00]   终止日期：[${day.replaceAll("-", "")} 23:59:59]`,
      `#${rule}业务明细列表${rule}`,
      ALIPAY_STATEMENT_COLUMNS.join(","),
      // Alipay pads every value with a tab; a value with a comma or quote is quoted (tab inside the quotes).
      ...lines.map((l) => ALIPAY_STATEMENT_COLUMNS.map((c) => csvValue(`${l.values[c]}\t`)).join(",")),
      `#${rule}业务明细列表结束${rule}`,
      `#交易合计：${count("交易")}笔，商家实收：${formatYuan(sum("交易"))}元，商家优惠：0.00元`,
      `#退款合计：${count("退款")}笔，商家实收：${formatYuan(sum("退款"))}元，商家优惠：0.00元`,
      `#导出时间：[${formatChinaTime(new Date())}]`,
      "",
    ].join("\r\n");
  }

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
      case "alipay.data.dataservice.bill.downloadurl.query": {
        const day = biz.bill_date ?? "";
        if (biz.bill_type !== "trade" || !/^\d{4}-\d{2}-\d{2}$/.test(day)) return error("isv.invalid-parameter");
        const csv = billCsv(day);
        if (csv === null) return error("isp.bill_not_exist");
        const pid = "2088000000000001";
        const stem = `${pid}_${day.replaceAll("-", "")}`;
        const detail = gbkBytes(csv);
        const token = randomBytes(12).toString("hex");
        const archive = zipOf([
          { name: `${stem}_业务明细.csv`, data: detail },
          { name: `${stem}_业务明细(汇总).csv`, data: gbkBytes("#支付宝业务汇总查询\r\n") },
        ]);
        if (corruptBill) {
          // A byte of the first entry's deflated data, after its CRC-32 was written.
          corruptBill = false;
          const at = 30 + archive.readUInt16LE(26) + 2;
          archive.writeUInt8(archive.readUInt8(at) ^ 0x01, at);
        }
        billFiles.set(token, archive);
        return {
          code: "10000",
          msg: "Success",
          bill_download_url: `${origin}/bill/downloadBill.file?token=${token}`,
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
      if (url.pathname === "/bill/downloadBill.file") {
        const file = billFiles.get(url.searchParams.get("token") ?? "");
        if (!file) {
          response.writeHead(404, { "content-type": "text/plain" });
          return response.end("no such bill");
        }
        response.writeHead(200, { "content-type": "application/octet-stream", "content-length": file.length });
        return response.end(file);
      }
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
  origin = `http://127.0.0.1:${port}`;
  return {
    url: `http://127.0.0.1:${port}/gateway.do`,
    trades,
    requests,
    forgeNextResponse: () => {
      forge = true;
    },
    corruptNextBill: () => {
      corruptBill = true;
    },
    billCsv,
    pay(outTradeNo, at = new Date()) {
      const trade = trades.get(outTradeNo);
      if (trade === undefined) return false;
      if (trade.status === "TRADE_SUCCESS") return true;
      if (trade.status !== "WAIT_BUYER_PAY") return false;
      trade.status = "TRADE_SUCCESS";
      trade.paidAt = at;
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

const csvValue = (value: string) => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

let gbkTable: Map<string, number> | null = null;

/** GBK bytes of a text (Node decodes GBK but cannot encode it): the table is built by decoding every double-byte code. */
function gbkBytes(text: string): Buffer {
  if (gbkTable === null) {
    gbkTable = new Map();
    const decoder = new TextDecoder("gbk");
    for (let lead = 0x81; lead <= 0xfe; lead++)
      for (let trail = 0x40; trail <= 0xfe; trail++) {
        if (trail === 0x7f) continue;
        const char = decoder.decode(Uint8Array.of(lead, trail));
        if (char !== "\ufffd" && !gbkTable.has(char)) gbkTable.set(char, (lead << 8) | trail);
      }
  }
  const out: number[] = [];
  for (const char of text) {
    const code = char.codePointAt(0)!;
    if (code < 0x80) out.push(code);
    else {
      const double = gbkTable.get(char);
      if (double === undefined) throw new RangeError(`stand-in: ${char} has no GBK code`);
      out.push(double >> 8, double & 0xff);
    }
  }
  return Buffer.from(out);
}

/** A ZIP archive of deflated entries with GBK names (no UTF-8 flag), as Alipay's bill archives are. */
function zipOf(entries: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = gbkBytes(entry.name);
    const packed = deflateRawSync(entry.data);
    const crc = crc32(entry.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, packed);
    centrals.push(central, name);
    offset += local.length + name.length + packed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
