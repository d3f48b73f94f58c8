import { parseChinaTime } from "./alipay-notification.js";
import { parseYuanToFen } from "./alipay-signature.js";
import type { ProviderStatement } from "./types.js";

/**
 * Alipay's trade bill (业务明细): the CSV Alipay serves for a day (and the
 * sandbox writes in the same format), read into rows with fen amounts and
 * then into provider-neutral statement rows.
 */

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
 * Reads a trade bill as Alipay (and the sandbox's `statementCsv`) writes
 * it: the rows with fen amounts, and the summary lines, which must agree
 * with the rows (throws otherwise, or on a malformed bill).
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
