import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from "fastify";

import type { ErrorCode } from "../errors.js";
import { listOrders } from "../modules/drops/reports.js";
import type { Platform } from "../platform.js";
import type { SandboxTrade } from "../providers/payments/sandbox.js";
import { acceptRawBodies } from "./raw-body.js";
import { httpStatusOf, refusal } from "./refusal.js";

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

type Language = "zh" | "en";

/** The page's language: `?lang=en|zh` (the page's toggle), else the browser's first Accept-Language. */
function languageOf(request: FastifyRequest<{ Querystring: { lang?: string } }>): Language {
  const asked = request.query.lang;
  if (asked === "en" || asked === "zh") return asked;
  const first =
    String(request.headers["accept-language"] ?? "")
      .split(",")[0]
      ?.trim()
      .toLowerCase() ?? "";
  return first.startsWith("en") ? "en" : "zh";
}

/** Whether the reader is a browser (answered pages) rather than a program (answered JSON). */
const wantsPage = (request: FastifyRequest) => String(request.headers.accept ?? "").includes("text/html");

const WORDS = {
  zh: {
    cashier: "沙箱收银台",
    toggle: "English",
    due: "应付金额",
    item: "商品",
    orderNo: "订单号",
    pay: "确认付款",
    cancel: "取消，返回订单",
    sandbox: "这是开发与测试用的沙箱收银台，不会真实扣款。",
    backToOrder: "返回订单",
    backToShop: "返回商店",
    paidTitle: "付款成功",
    paidText: "已收到付款，藏品将在铸造完成后出现在「我的」中。",
    alreadyPaidTitle: "这笔订单已付款",
    closedTitle: "这笔订单已关闭",
    expiredTitle: "支付时间已过",
    unknownTitle: "找不到这笔订单",
    unknownText: "订单号可能有误，或订单已被清理。请回到商店查看您的订单。",
    editions: (n: number) => ` × ${n} 份`,
  },
  en: {
    cashier: "Sandbox cashier",
    toggle: "中文",
    due: "Amount due",
    item: "Item",
    orderNo: "Order number",
    pay: "Pay now",
    cancel: "Cancel and go back to the order",
    sandbox: "This is the sandbox cashier for development and testing; no real money moves.",
    backToOrder: "Back to the order",
    backToShop: "Back to the shop",
    paidTitle: "Payment received",
    paidText: "We have your payment; the collectible appears under “Mine” once it is minted.",
    alreadyPaidTitle: "This order is already paid",
    closedTitle: "This order is closed",
    expiredTitle: "The time to pay has passed",
    unknownTitle: "No such order",
    unknownText: "The order number may be wrong, or the order is gone. Go back to the shop to see your orders.",
    editions: (n: number) => ` × ${n}`,
  },
} as const;

const STYLE = `*{box-sizing:border-box}body{margin:0;font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;
background:#f4f5f7;color:#1d2129}main{max-width:28rem;margin:0 auto;padding:1rem}header{display:flex;
justify-content:space-between;align-items:center;gap:.5rem;margin-bottom:1rem}.brand{font-weight:600}
.card{background:#fff;border-radius:12px;padding:1.25rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.label{margin:0;color:#86909c;font-size:.9rem}.amount{margin:.25rem 0 1rem;font-size:2.25rem;font-weight:700}
dl{display:grid;grid-template-columns:auto 1fr;gap:.4rem .75rem;margin:0 0 1.25rem}dt{color:#86909c}
dd{margin:0;overflow-wrap:anywhere}.mono{font-family:ui-monospace,monospace;font-size:.9rem}
.pay{display:block;width:100%;padding:.85rem;border:0;border-radius:8px;background:#1677ff;color:#fff;
font-size:1.05rem;cursor:pointer}.cancel,.back{display:block;text-align:center;margin-top:.85rem;color:#1677ff}
.note{color:#86909c;font-size:.85rem;text-align:center;margin-top:1rem}h1{font-size:1.35rem;margin:0 0 .5rem}
p{line-height:1.6}`;

/** One cashier page: mobile viewport, the language toggle, and the body's card. */
function page(lang: Language, togglePath: string, title: string, card: string): string {
  const words = WORDS[lang];
  return `<!doctype html>
<html lang="${lang === "zh" ? "zh-CN" : "en"}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · ${words.cashier}</title><style>${STYLE}</style></head>
<body><main><header><span class="brand">${words.cashier}</span>
<a class="lang" href="${escape(togglePath)}" lang="${lang === "zh" ? "en" : "zh-CN"}">${words.toggle}</a></header>
<section class="card">${card}</section><p class="note">${words.sandbox}</p></main></body></html>`;
}

/** The toggle's address: this page in the other language. */
function toggleOf(path: string, lang: Language): string {
  return `${path}?lang=${lang === "zh" ? "en" : "zh"}`;
}

/** Our order behind a trade: its state and its item in words (the collection's title and the editions). */
async function orderOf(platform: Platform, outTradeNo: string, lang: Language) {
  const [order] = await listOrders(platform.db, { orderNo: outTradeNo, limit: 1 });
  if (order === undefined) return null;
  const title = (await platform.catalog.titlesOf(platform.db, [order.collectionId])).get(order.collectionId)?.title;
  return { status: order.status, item: title === undefined ? null : `${title}${WORDS[lang].editions(order.quantity)}` };
}

/**
 * Why our side no longer takes a payment for the order, or null. An order closed before its payment window
 * ended was cancelled (said as closed), not timed out.
 */
function refusalOfOrder(status: string | undefined): ErrorCode | null {
  if (status === "expired") return "payments.tradeClosed";
  if (status === "refunded") return "payments.tradeClosed";
  if (status === "paid" || status === "minting" || status === "minted") return "payments.tradePaid";
  return null;
}

/** Why a trade can no longer be paid, or null while it can. */
function refusalOf(trade: SandboxTrade, now: Date): ErrorCode | null {
  if (trade.status === "TRADE_SUCCESS") return "payments.tradePaid";
  const timedOut = now.getTime() >= trade.expiresAt.getTime();
  if (trade.status === "TRADE_CLOSED") {
    const closedAtExpiry =
      trade.paidAt === undefined && trade.closedAt !== undefined && trade.closedAt >= trade.expiresAt;
    return closedAtExpiry ? "payments.tradeExpired" : "payments.tradeClosed";
  }
  return timedOut ? "payments.tradeExpired" : null;
}

const TITLE_OF: Record<string, keyof (typeof WORDS)["zh"]> = {
  "payments.tradePaid": "alreadyPaidTitle",
  "payments.tradeClosed": "closedTitle",
  "payments.tradeExpired": "expiredTitle",
  "order.notFound": "unknownTitle",
};

/** A refusal: a page in words for a browser, the shared JSON refusal for a program; never a 500. */
function refuse(
  request: FastifyRequest<{ Querystring: { lang?: string } }>,
  reply: FastifyReply,
  code: ErrorCode,
  path: string,
  outTradeNo: string | null,
) {
  reply.code(httpStatusOf(code));
  if (!wantsPage(request)) return reply.send(refusal(code));
  const lang = languageOf(request);
  const words = WORDS[lang];
  const title = String(words[TITLE_OF[code] ?? "unknownTitle"]);
  const text = code === "order.notFound" ? words.unknownText : refusal(code).error.messages[lang];
  const back =
    outTradeNo === null
      ? `<a class="back" href="/">${words.backToShop}</a>`
      : `<a class="back" href="/checkout/${encodeURIComponent(outTradeNo)}">${words.backToOrder}</a>`;
  const number =
    outTradeNo === null ? "" : `<dl><dt>${words.orderNo}</dt><dd class="mono">${escape(outTradeNo)}</dd></dl>`;
  return reply
    .type("text/html; charset=utf-8")
    .send(page(lang, toggleOf(path, lang), title, `<h1>${title}</h1><p>${text}</p>${number}${back}`));
}

/**
 * The sandbox cashier, when the platform runs the sandbox payment provider: what a collector's payment app
 * would show (GET /pay/sandbox/cashier/:outTradeNo) — the amount, the item and the order number, a pay button
 * (POST …/pay) and a way back to the order — in Chinese or English. An order already paid, closed, timed out or
 * unknown gets a page that says so (a JSON refusal for programs), never a 500. Its own context takes any body as
 * a raw string, so the page's form post is accepted whatever its content type.
 */
export const sandboxCashier: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  const sandbox = platform.sandboxPayments;
  if (sandbox === null) return;
  acceptRawBodies(app, "string");
  type Route = { Params: { outTradeNo: string }; Querystring: { lang?: string } };

  app.get<Route>("/pay/sandbox/cashier/:outTradeNo", async (request, reply) => {
    const { outTradeNo } = request.params;
    const path = `/pay/sandbox/cashier/${encodeURIComponent(outTradeNo)}`;
    const trade = sandbox.trade(outTradeNo);
    if (trade === undefined) return refuse(request, reply, "order.notFound", path, null);
    const lang = languageOf(request);
    const order = await orderOf(platform, outTradeNo, lang);
    const refused = refusalOf(trade, platform.clock()) ?? refusalOfOrder(order?.status);
    if (refused !== null) return refuse(request, reply, refused, path, outTradeNo);
    const words = WORDS[lang];
    const item = order?.item ?? trade.subject;
    const card = `<p class="label">${words.due}</p><p class="amount" data-testid="amount">¥${(trade.amountFen / 100).toFixed(2)}</p>
<dl><dt>${words.item}</dt><dd>${escape(item)}</dd><dt>${words.orderNo}</dt><dd class="mono">${escape(outTradeNo)}</dd></dl>
<form method="post" action="${path}/pay?lang=${lang}"><button class="pay" type="submit">${words.pay}</button></form>
<a class="cancel" href="/checkout/${encodeURIComponent(outTradeNo)}">${words.cancel}</a>`;
    return reply.type("text/html; charset=utf-8").send(page(lang, toggleOf(path, lang), words.cashier, card));
  });

  app.post<Route>("/pay/sandbox/cashier/:outTradeNo/pay", async (request, reply) => {
    const { outTradeNo } = request.params;
    const path = `/pay/sandbox/cashier/${encodeURIComponent(outTradeNo)}`;
    const trade = sandbox.trade(outTradeNo);
    if (trade === undefined) return refuse(request, reply, "order.notFound", path, null);
    // A browser is held to the payment window; a program may still pay late (the sandbox's late-payment path).
    const order = wantsPage(request) ? await orderOf(platform, outTradeNo, languageOf(request)) : null;
    const refused = refusalOf(trade, platform.clock()) ?? refusalOfOrder(order?.status);
    if (refused !== null && (wantsPage(request) || refused !== "payments.tradeExpired"))
      return refuse(request, reply, refused, path, outTradeNo);
    let delivery;
    try {
      delivery = await sandbox.pay(outTradeNo);
    } catch {
      // Closed or paid between the check and the payment (the provider's own refusal).
      const now = sandbox.trade(outTradeNo);
      return refuse(
        request,
        reply,
        (now && refusalOf(now, platform.clock())) ?? "payments.tradeClosed",
        path,
        outTradeNo,
      );
    }
    if (!wantsPage(request))
      return reply.send({ paid: true, delivered: delivery.delivered, attempts: delivery.attempts });
    const lang = languageOf(request);
    const words = WORDS[lang];
    const card = `<h1>${words.paidTitle}</h1><p class="amount">¥${(trade.amountFen / 100).toFixed(2)}</p><p>${words.paidText}</p>
<dl><dt>${words.orderNo}</dt><dd class="mono">${escape(outTradeNo)}</dd></dl>
<a class="back" href="/checkout/${encodeURIComponent(outTradeNo)}">${words.backToOrder}</a>`;
    return reply.type("text/html; charset=utf-8").send(page(lang, toggleOf(path, lang), words.paidTitle, card));
  });
};
