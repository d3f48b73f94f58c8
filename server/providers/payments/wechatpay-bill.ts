import { parseChinaTime } from "./alipay-notification.js";
import { parseYuanToFen } from "./alipay-signature.js";
import type { ProviderStatementRow } from "./types.js";

/**
 * WeChat Pay's trade bill (交易账单, API v3 `GET /v3/bill/tradebill`, the file
 * behind its `download_url`): a header line of column names, one line per
 * trade or refund whose every field is prefixed with a backtick (so a
 * spreadsheet keeps long numbers as text), then a summary header
 * (`总交易单数,…`) and one line of totals. Amounts are yuan with 2 decimals;
 * times are China time "yyyy-MM-dd HH:mm:ss".
 */
export const WECHATPAY_TRADE_BILL_COLUMNS = [
  "交易时间",
  "公众账号ID",
  "商户号",
  "特约商户号",
  "设备号",
  "微信订单号",
  "商户订单号",
  "用户标识",
  "交易类型",
  "交易状态",
  "付款银行",
  "货币种类",
  "应结订单金额",
  "代金券金额",
  "微信退款单号",
  "商户退款单号",
  "退款金额",
  "充值券退款金额",
  "退款类型",
  "退款状态",
  "商品名称",
  "商户数据包",
  "手续费",
  "费率",
  "订单金额",
  "申请退款金额",
  "费率备注",
] as const;

export interface WechatpayTradeBill {
  rows: ProviderStatementRow[];
  summary: { count: number; settledFen: number; refundFen: number; orderFen: number };
}

/** The fields of one backtick-prefixed line (`` `a,`b,`c ``); a comma inside a field (商品名称) stays in it. */
function billFields(line: string): string[] {
  if (!line.startsWith("`")) throw new SyntaxError("A bill line does not start with a backtick");
  return line.slice(1).split(",`");
}

function fenOf(column: string, text: string): number {
  try {
    return parseYuanToFen(text.trim() === "" ? "0" : text.trim());
  } catch {
    throw new SyntaxError(`Bad ${column} amount`);
  }
}

/**
 * Reads a trade bill: SUCCESS lines are trades, REFUND lines are refunds (of
 * 退款金额); other states (REVOKED, ...) carry no money and are skipped. The
 * summary's line count and refund total must agree with the lines, or the
 * bill is refused (SyntaxError).
 */
export function parseWechatpayTradeBill(text: string): WechatpayTradeBill {
  const lines = text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .filter((line) => line.trim() !== "");
  const header = lines[0]?.split(",").map((name) => name.trim());
  if (header === undefined) throw new SyntaxError("The bill is empty");
  const index = new Map(header.map((name, i) => [name, i]));
  for (const column of ["交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "退款金额", "订单金额"])
    if (!index.has(column)) throw new SyntaxError(`The bill has no ${column} column`);
  const summaryAt = lines.findIndex((line) => line.startsWith("总交易单数"));
  if (summaryAt === -1 || summaryAt + 2 !== lines.length)
    throw new SyntaxError("The bill does not end with its summary lines");

  const rows: ProviderStatementRow[] = [];
  let refundTotalFen = 0;
  for (const line of lines.slice(1, summaryAt)) {
    const fields = billFields(line);
    if (fields.length < header.length) throw new SyntaxError("A bill line has too few fields");
    const get = (column: string) => (fields[index.get(column) ?? -1] ?? "").trim();
    const state = get("交易状态");
    const amountFen = fenOf("订单金额", get("订单金额"));
    const refundFen = fenOf("退款金额", get("退款金额"));
    fenOf("应结订单金额", get("应结订单金额")); // read to refuse a malformed amount; not reconciled
    refundTotalFen += refundFen;
    let at: Date;
    try {
      at = parseChinaTime(get("交易时间"));
    } catch {
      throw new SyntaxError("Bad 交易时间");
    }
    const base = { outTradeNo: get("商户订单号"), tradeNo: get("微信订单号"), amountFen, at };
    if (base.outTradeNo === "" || base.tradeNo === "") throw new SyntaxError("A bill line has no order number");
    if (state === "SUCCESS") rows.push({ ...base, kind: "trade", refundFen: 0 });
    else if (state === "REFUND") {
      const refundNo = get("商户退款单号");
      rows.push({ ...base, kind: "refund", refundFen, ...(refundNo === "" ? {} : { refundNo }) });
    }
  }

  const names = lines[summaryAt]!.split(",").map((name) => name.trim());
  const values = billFields(lines[summaryAt + 1]!).map((value) => value.trim());
  const total = (name: string) => {
    const i = names.indexOf(name);
    if (i === -1) throw new SyntaxError(`The summary has no ${name}`);
    return values[i] ?? "";
  };
  const summary = {
    count: Number(total("总交易单数")),
    settledFen: fenOf("应结订单总金额", total("应结订单总金额")),
    refundFen: fenOf("退款总金额", total("退款总金额")),
    orderFen: fenOf("订单总金额", total("订单总金额")),
  };
  if (summary.count !== summaryAt - 1) throw new SyntaxError("总交易单数 disagrees with the lines");
  // Only the totals whose meaning does not depend on how refund lines fill the order columns are checked.
  if (summary.refundFen !== refundTotalFen) throw new SyntaxError("退款总金额 disagrees with the lines");
  return { rows, summary };
}
