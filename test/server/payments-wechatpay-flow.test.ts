import { generateKeyPairSync } from "node:crypto";

import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  login,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { type WechatpayGatewayStandIn, startWechatpayGateway } from "./stand-ins/wechatpay-gateway.js";

/**
 * The payment flow through the server with PAYMENT_PROVIDER=wechatpay: the
 * provider is built from the WECHATPAY_* settings by the platform, its
 * requests go to the API v3 stand-in, and the stand-in's notifications are
 * posted to /pay/notify/wechatpay.
 */
const merchant = generateKeyPairSync("rsa", { modulusLength: 2048 });
const platformKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const APP_ID = "wx8888888888888888";
const MCH_ID = "1230000109";
const MCH_SERIAL = "444F4864EA9B34415C2E8C9A0A5C2E1E29B1D8C0";
const PUB_KEY_ID = "PUB_KEY_ID_0112300001092026120200000000000001";
const API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01";
const ORIGIN = "https://shop.example.test";

describe("payments end to end with WeChat Pay (pglite)", () => {
  let gateway: WechatpayGatewayStandIn;
  let test: TestPlatform;
  let app: FastifyInstance;

  beforeAll(async () => {
    gateway = await startWechatpayGateway({
      appId: APP_ID,
      mchId: MCH_ID,
      mchSerial: MCH_SERIAL,
      merchantPublicKey: merchant.publicKey,
      platformPrivateKey: platformKeys.privateKey,
      platformPublicKeyId: PUB_KEY_ID,
      apiV3Key: API_V3_KEY,
    });
    test = await createTestPlatform(databasesUnderTest()[0]!, {
      env: {
        PUBLIC_ORIGIN: ORIGIN,
        PAYMENT_PROVIDER: "wechatpay",
        WECHATPAY_APP_ID: APP_ID,
        WECHATPAY_MCH_ID: MCH_ID,
        WECHATPAY_MCH_SERIAL: MCH_SERIAL,
        WECHATPAY_PRIVATE_KEY: merchant.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        WECHATPAY_API_V3_KEY: API_V3_KEY,
        WECHATPAY_PLATFORM_PUBLIC_KEY: platformKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
        WECHATPAY_PLATFORM_PUBLIC_KEY_ID: PUB_KEY_ID,
        WECHATPAY_GATEWAY: gateway.url,
      },
    });
    app = await buildHttpApp(test.platform, { logger: false });
  });
  afterAll(async () => {
    await app?.close();
    await test?.close();
    await gateway?.close();
  });

  const post = (notification: { headers: Record<string, string>; body: string }) =>
    app.inject({
      method: "POST",
      url: "/pay/notify/wechatpay",
      headers: notification.headers,
      payload: notification.body,
    });

  async function count(table: string, where = "true"): Promise<number> {
    const result = (await test.platform.db.execute(
      sql.raw(`select count(*)::int as n from ${table} where ${where}`),
    )) as unknown as { rows: { n: number }[] };
    return result.rows[0]!.n;
  }

  it("opens a Native cashier, applies the signed payment notification once, and refunds on an operator's request", async () => {
    expect(test.platform.paymentProvider.name).toBe("wechatpay");
    expect(test.platform.sandboxPayments).toBeNull();

    const collection = await publishedCollection(test, { priceFen: 1990, perPersonLimit: 2, editionSize: 10 });
    const buyer = await verifiedCollector(test);
    const order = await buyer.caller.drops.reserve({
      collectionId: collection.id,
      quantity: 1,
      idempotencyKey: "wechatpay-flow-1",
    });
    const intent = await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
    expect(intent).toMatchObject({ provider: "wechatpay", amountFen: 1990, status: "pending", cashierPath: null });
    expect(intent.qrCode).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    const trade = gateway.trades.get(order.orderNo)!;
    expect(trade).toMatchObject({ totalFen: 1990, notifyUrl: `${ORIGIN}/pay/notify/wechatpay`, state: "NOTPAY" });

    // A notification altered after WeChat Pay signed it is refused (500, so WeChat Pay retries) and changes nothing.
    gateway.pay(order.orderNo, test.clock.now());
    const genuine = gateway.paymentNotification(order.orderNo, test.clock.now());
    const forged = await post({ ...genuine, body: genuine.body.replace('"id":"', '"id":"0') });
    expect(forged.statusCode).toBe(500);
    expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("created");

    for (let i = 0; i < 3; i++) {
      const answer = await post(genuine);
      expect(answer.statusCode).toBe(200);
      expect(answer.json()).toEqual({ code: "SUCCESS", message: "成功" });
    }
    expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("paid");
    expect(await count("mint_jobs")).toBe(1);
    expect(await count("payment_notifications", "outcome = 'applied'")).toBe(1);
    expect(await count("payment_notifications", "outcome = 'duplicate'")).toBe(2);

    const operator = await login(test);
    await promote(test.platform, operator.user.id, "operator");
    const { caller: ops } = await callerFor(test.platform, { token: operator.token });
    await ops.payments.refund({ orderNo: order.orderNo, reason: "用户申请退款" });
    const [refundNo] = [...trade.refunds.keys()];
    expect(trade.refunds.get(refundNo!)).toMatchObject({
      refundFen: 1990,
      notifyUrl: `${ORIGIN}/pay/notify/wechatpay`,
    });
    expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("paid");

    const refunded = await post(gateway.refundNotification(order.orderNo, refundNo!, test.clock.now()));
    expect(refunded.statusCode).toBe(200);
    expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("refunded");
    expect(await count("refunds", "status = 'succeeded'")).toBe(1);
    expect(await buyer.caller.drops.stock({ collectionId: collection.id })).toMatchObject({ sold: 0, available: 10 });
  });

  it("asks WeChat Pay before expiring an order and closes the unpaid trade", async () => {
    const collection = await publishedCollection(test, { priceFen: 500, perPersonLimit: 1, editionSize: 5 });
    const buyer = await verifiedCollector(test);
    const order = await buyer.caller.drops.reserve({
      collectionId: collection.id,
      quantity: 1,
      idempotencyKey: "wechatpay-flow-2",
    });
    await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
    test.clock.advance(11 * 60_000);
    expect(await test.platform.payments.settleExpiring(test.platform.db)).toMatchObject({ paidLate: 0 });
    expect(gateway.trades.get(order.orderNo)?.state).toBe("CLOSED");
    expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("expired");
  });
});
