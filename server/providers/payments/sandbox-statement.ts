import { formatChinaTime, parseChinaTime } from "./alipay-notification.js";
import { ALIPAY_STATEMENT_COLUMNS } from "./alipay-statement.js";
import { formatYuan } from "./alipay-signature.js";
import { type Trade, invalid } from "./sandbox-book.js";

/** The sandbox's trade bill for a day: Alipay's CSV format, read back by `parseAlipayStatement`. */

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

/**
 * The day's trade bill (China date "yyyy-MM-dd", or the China day of a Date)
 * as Alipay's CSV: a 交易 line per payment and a 退款 line per refund made
 * that day, in time order.
 */
export function sandboxStatementCsv(
  trades: Iterable<Trade>,
  account: string,
  date: Date | string,
  now: () => Date,
): string {
  const day = typeof date === "string" ? date : formatChinaTime(date).slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) invalid(`Not a date: ${day}`);
  const start = parseChinaTime(`${day} 00:00:00`);
  const end = new Date(start.getTime() + 24 * 3600 * 1000);
  const within = (at: Date | undefined) => at !== undefined && at >= start && at < end;

  const lines: { at: Date; row: StatementLine }[] = [];
  for (const trade of trades) {
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
    account,
    start,
    end,
    exportedAt: now(),
    rows: lines.map(({ row }) => row),
  });
}
