import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  freePort,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";

/**
 * The sandbox cashier as a browser and a program meet it: a page that looks like a cashier (phone viewport, the
 * amount, the item, the order number, pay and cancel, a way back), and for an order already paid, closed, timed
 * out or unknown a page in words (Chinese or English) with a 4xx — never a 500, never JSON for a browser.
 */
const [pglite] = databasesUnderTest();
const BROWSER = { accept: "text/html,application/xhtml+xml,*/*;q=0.8" };
let keyCounter = 0;

describe("the sandbox cashier", () => {
  let test: TestPlatform;
  let app: FastifyInstance;

  beforeEach(async () => {
    // The cashier's payment notification comes back to this app: it listens where the platform says it is.
    const port = await freePort();
    test = await createTestPlatform(pglite!, { env: { PUBLIC_ORIGIN: `http://127.0.0.1:${port}` } });
    app = await buildHttpApp(test.platform, { logger: false });
    await app.listen({ host: "127.0.0.1", port });
  });
  afterEach(async () => {
    await app.close();
    await test.close();
  });

  async function openCashier(quantity = 1) {
    const collection = await publishedCollection(test, { priceFen: 1990, perPersonLimit: 2 });
    const buyer = await verifiedCollector(test);
    const order = await buyer.caller.drops.reserve({
      collectionId: collection.id,
      quantity,
      idempotencyKey: `cashier-${++keyCounter}`,
    });
    const intent = await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
    return { buyer, order, path: intent.cashierPath!, title: collection.title };
  }

  const get = (url: string, headers: Record<string, string> = BROWSER) => app.inject({ url, headers });
  const pay = (url: string, headers: Record<string, string> = BROWSER) =>
    app.inject({
      method: "POST",
      url: `${url}/pay`,
      headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
      payload: "",
    });

  function expectPage(response: Awaited<ReturnType<typeof get>>, status: number) {
    expect(response.statusCode).toBe(status);
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    expect(response.body).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(() => JSON.parse(response.body)).toThrow();
  }

  it("shows the amount in yuan, the item and the order number, pay and cancel, and the way back", async () => {
    const { order, path, title } = await openCashier(2);
    const page = await get(path);
    expectPage(page, 200);
    expect(page.body).toContain("¥39.80");
    expect(page.body).toContain(`${title} × 2 份`);
    expect(page.body).toContain(order.orderNo);
    expect(page.body).toMatch(/<button[^>]*>确认付款<\/button>/);
    expect(page.body).toContain(`href="/checkout/${order.orderNo}">取消，返回订单</a>`);
    expect(page.body).toContain('lang="zh-CN"');

    // English by the browser's language, or by the page's toggle.
    const english = await get(path, { ...BROWSER, "accept-language": "en-GB,en;q=0.9" });
    expectPage(english, 200);
    expect(english.body).toContain("Amount due");
    expect(english.body).toContain(">Pay now</button>");
    expect(english.body).not.toMatch(/确认付款|应付金额/);
    expect(english.body).toContain(`href="${path}?lang=zh"`);
    expect((await get(`${path}?lang=en`)).body).toContain("Cancel and go back to the order");

    // Paying from the page: a page in words, with the way back to the order.
    const paid = await pay(path);
    expectPage(paid, 200);
    expect(paid.body).toContain("付款成功");
    expect(paid.body).toContain(`href="/checkout/${order.orderNo}"`);
  });

  it("says an order is already paid, to a browser in words and to a program in JSON, paying nothing twice", async () => {
    const { buyer, order, path } = await openCashier();
    expect((await pay(path, {})).json()).toMatchObject({ paid: true });
    for (const response of [await get(path), await pay(path)]) {
      expectPage(response, 409);
      expect(response.body).toContain("这笔订单已付款");
      expect(response.body).toContain(`href="/checkout/${order.orderNo}"`);
    }
    const english = await get(`${path}?lang=en`);
    expect(english.body).toContain("This order is already paid");
    const program = await pay(path, {});
    expect(program.statusCode).toBe(409);
    expect(program.json()).toMatchObject({ error: { appCode: "payments.tradePaid" } });
    expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("paid");
  });

  it("says a closed order can no longer be paid", async () => {
    const { path } = await openCashier();
    await test.platform.sandboxPayments!.closeOrder(path.split("/").at(-1)!);
    for (const response of [await get(path), await pay(path)]) {
      expectPage(response, 409);
      expect(response.body).toContain("这笔订单已关闭");
    }
    expect((await pay(path, {})).json()).toMatchObject({ error: { appCode: "payments.tradeClosed" } });
  });

  it("says an order not paid in time has timed out, and a cancelled one is closed", async () => {
    const { path } = await openCashier();
    const cancelled = await openCashier();
    await cancelled.buyer.caller.orders.cancel({ orderNo: cancelled.order.orderNo });
    // Cancelled within its window: said as closed, not as timed out.
    const page = await get(cancelled.path);
    expectPage(page, 409);
    expect(page.body).toContain("这笔订单已关闭");
    expect(page.body).not.toContain("超时");

    test.clock.advance(60 * 60_000);
    for (const response of [await get(path), await pay(path)]) {
      expectPage(response, 409);
      expect(response.body).toContain("支付时间已过");
      expect(response.body).toContain("超时关闭");
    }
    const english = await get(path, { ...BROWSER, "accept-language": "en" });
    expect(english.body).toContain("The time to pay has passed");
  });

  it("says an unknown order is not found, with the way back to the shop", async () => {
    const path = "/pay/sandbox/cashier/SZ20261124000000000000";
    for (const response of [await get(path), await pay(path)]) {
      expectPage(response, 404);
      expect(response.body).toContain("找不到这笔订单");
      expect(response.body).toContain('href="/"');
    }
    const program = await get(path, {});
    expect(program.statusCode).toBe(404);
    expect(program.json()).toMatchObject({ error: { appCode: "order.notFound" } });
    const strange = await get("/pay/sandbox/cashier/%3Cscript%3E?lang=xx");
    expectPage(strange, 404);
    expect(strange.body).not.toContain("<script>");
  });
});
