import type { FastifyPluginAsync } from "fastify";

import type { Platform } from "../platform.js";
import { acceptRawBodies } from "./raw-body.js";
import { refusal } from "./refusal.js";

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The sandbox cashier, when the platform runs the sandbox payment provider: what a collector's payment app
 * would show (GET /pay/sandbox/cashier/:outTradeNo), with a button that pays (POST …/pay). Its own context
 * takes any body as a raw string, so the page's form post is accepted whatever its content type.
 */
export const sandboxCashier: FastifyPluginAsync<{ platform: Platform }> = async (app, { platform }) => {
  const sandbox = platform.sandboxPayments;
  if (sandbox === null) return;
  acceptRawBodies(app, "string");

  app.get<{ Params: { outTradeNo: string } }>("/pay/sandbox/cashier/:outTradeNo", async (request, reply) => {
    const trade = sandbox.trade(request.params.outTradeNo);
    if (trade === undefined) return reply.code(404).send(refusal("order.notFound"));
    return reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>沙箱收银台</title></head>
<body><h1>沙箱收银台 Sandbox cashier</h1>
<p>订单 ${escape(trade.outTradeNo)}：${escape(trade.subject)}</p>
<p>应付 ¥${(trade.amountFen / 100).toFixed(2)}（${escape(trade.status)}）</p>
<form method="post" action="/pay/sandbox/cashier/${encodeURIComponent(trade.outTradeNo)}/pay"><button type="submit">确认付款 Pay</button></form>
</body></html>`);
  });

  app.post<{ Params: { outTradeNo: string } }>("/pay/sandbox/cashier/:outTradeNo/pay", async (request, reply) => {
    if (sandbox.trade(request.params.outTradeNo) === undefined) return reply.code(404).send(refusal("order.notFound"));
    const delivery = await sandbox.pay(request.params.outTradeNo);
    if (String(request.headers.accept ?? "").includes("text/html")) {
      return reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>沙箱收银台</title></head>
<body><h1>付款成功 Paid</h1><p>请返回商户页面查看订单。Return to the shop to see your order.</p></body></html>`);
    }
    return reply.send({ paid: true, delivered: delivery.delivered, attempts: delivery.attempts });
  });
};
