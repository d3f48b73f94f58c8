import { generateKeyPairSync } from "node:crypto";

import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import {
  buildAlipayNotificationBody,
  formatChinaTime,
  verifyAlipayNotification,
} from "../../server/providers/payments/alipay-notification.js";
import { createSandboxPaymentProvider } from "../../server/providers/payments/sandbox.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  freePort,
  login,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { type WechatpayGatewayStandIn, startWechatpayGateway } from "./stand-ins/wechatpay-gateway.js";

/**
 * Money weaknesses, each shown end to end on every database under test: refunds complete only for our
 * refund number and amount; a provider state other than success never mints; signed notices for another
 * seller are refused and those for another amount alert an operator; amounts are 64-bit; free orders never
 * reach a cashier or a refund; idempotency keys belong to their collection.
 */

let keyCounter = 0;
const key = () => `sec-${Date.now()}-${++keyCounter}`;

async function rows<T>(test: TestPlatform, query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await test.platform.db.execute(query)) as unknown as { rows: T[] }).rows;
}

async function alertCount(test: TestPlatform, reason: string): Promise<number> {
  const metric = await test.platform.metrics.paymentAlerts.get();
  return metric.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function alertAudits(test: TestPlatform, alert: string): Promise<number> {
  const [row] = await rows<{ n: number }>(
    test,
    sql`select count(*)::int as n from audit_log where action = 'payments.alert' and details->>'alert' = ${alert}`,
  );
  return row!.n;
}

async function operator(test: TestPlatform) {
  const person = await login(test);
  await promote(test.platform, person.user.id, "operator");
  return (await callerFor(test.platform, { token: person.token })).caller;
}

for (const database of databasesUnderTest()) {
  describe(`payment weaknesses (${database.name})`, () => {
    let test: TestPlatform;
    let app: FastifyInstance;
    let provider: ReturnType<typeof createSandboxPaymentProvider>;
    const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });

    beforeEach(async () => {
      const port = await freePort();
      let clockRef: () => Date = () => new Date();
      provider = createSandboxPaymentProvider({ keyPair, retryDelaysMs: [20, 20], now: () => clockRef() });
      test = await createTestPlatform(database, {
        env: { PUBLIC_ORIGIN: `http://127.0.0.1:${port}` },
        overrides: { paymentProvider: provider },
      });
      clockRef = test.clock.now;
      app = await buildHttpApp(test.platform, { logger: false });
      await app.listen({ host: "127.0.0.1", port });
    });
    afterEach(async () => {
      await app.close();
      await test.close();
    });

    const post = (body: string) =>
      app.inject({
        method: "POST",
        url: "/pay/notify/sandbox",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: body,
      });

    function notification(fields: Record<string, string>) {
      const now = test.clock.now();
      return buildAlipayNotificationBody(
        {
          notify_time: formatChinaTime(now),
          notify_id: `n${Date.now()}${Math.random()}`.replace(".", ""),
          app_id: "sandbox-app",
          trade_no: "2026112422001400000000000001",
          trade_status: "TRADE_SUCCESS",
          gmt_payment: formatChinaTime(now),
          ...fields,
        } as never,
        keyPair.privateKey,
      );
    }

    async function paidOrder() {
      const collection = await publishedCollection(test, { priceFen: 1990, perPersonLimit: 2, editionSize: 10 });
      const buyer = await verifiedCollector(test);
      const order = await buyer.caller.drops.reserve({
        collectionId: collection.id,
        quantity: 1,
        idempotencyKey: key(),
      });
      const intent = await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
      await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
      await test.platform.sandboxPayments!.whenIdle();
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("paid");
      return { collection, buyer, order };
    }

    it("completes a refund only for our refund number and whole amount; a partial one alerts and keeps the order paid", async () => {
      const { collection, buyer, order } = await paidOrder();
      const ops = await operator(test);
      // The provider does not answer: the refund stays requested while notices arrive by hand.
      provider.refund = () => Promise.resolve({ accepted: true });
      const { refundNo } = await ops.payments.refund({ orderNo: order.orderNo, reason: "用户申请退款" });
      const refundNotice = (fee: string, extra: Record<string, string> = {}) =>
        notification({
          out_trade_no: order.orderNo,
          total_amount: "19.90",
          refund_fee: fee,
          gmt_refund: formatChinaTime(test.clock.now()),
          ...extra,
        });

      // 1 fen of ¥19.90 refunded: accepted as a partial refund, never "refunded".
      expect((await post(refundNotice("0.01"))).body).toBe("success");
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("paid");
      expect(await buyer.caller.drops.stock({ collectionId: collection.id })).toMatchObject({ sold: 1, available: 9 });
      const [partial] = await rows<{ status: string; reported_fen: string | number }>(
        test,
        sql`select status, reported_fen from refunds where refund_no = ${refundNo}`,
      );
      expect({ status: partial!.status, reported: Number(partial!.reported_fen) }).toEqual({
        status: "partial",
        reported: 1,
      });
      expect(await alertCount(test, "refund-partial")).toBe(1);
      expect(await alertAudits(test, "refund-partial")).toBe(1);
      // Its buyer is told the refund is partial: what the provider reported of what is due.
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).refund).toEqual({
        status: "partial",
        amountFen: 1990,
        refundedFen: 1,
        kind: "operator",
        reasonCode: null,
      });

      // The whole amount under another refund number is not ours either.
      expect(
        (await post(refundNotice("19.90", { out_biz_no: "RF-SOMEONE-ELSES", trade_status: "TRADE_CLOSED" }))).body,
      ).not.toBe("success");
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("paid");
      expect(await alertAudits(test, "refund-foreign")).toBe(1);

      // Our number, our amount: now the order is refunded and its edition returns.
      expect((await post(refundNotice("19.90", { out_biz_no: refundNo, trade_status: "TRADE_CLOSED" }))).body).toBe(
        "success",
      );
      const refunded = await buyer.caller.orders.get({ orderNo: order.orderNo });
      expect(refunded.status).toBe("refunded");
      expect(refunded.refund).toMatchObject({ status: "refunded", amountFen: 1990, refundedFen: 1990 });
      expect(await buyer.caller.drops.stock({ collectionId: collection.id })).toMatchObject({ sold: 0, available: 10 });
    });

    it("alerts an operator when a signed notice's amount is not the order's", async () => {
      const collection = await publishedCollection(test, { priceFen: 1990 });
      const buyer = await verifiedCollector(test);
      const order = await buyer.caller.drops.reserve({
        collectionId: collection.id,
        quantity: 1,
        idempotencyKey: key(),
      });
      await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
      expect((await post(notification({ out_trade_no: order.orderNo, total_amount: "0.01" }))).body).not.toBe(
        "success",
      );
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("created");
      expect(await alertCount(test, "amount-mismatch")).toBe(1);
      expect(await alertAudits(test, "amount-mismatch")).toBe(1);
      // A signed notice for another app is refused and alerted as well.
      expect(
        (await post(notification({ out_trade_no: order.orderNo, total_amount: "19.90", app_id: "another-app" }))).body,
      ).not.toBe("success");
      expect(await alertCount(test, "merchant-mismatch")).toBe(1);
    });

    it("keeps money in 64-bit fen: ¥1,000,000 × 22 editions is an order, a cashier and a payment", async () => {
      const collection = await publishedCollection(test, {
        priceFen: 100_000_000,
        perPersonLimit: 22,
        editionSize: 30,
      });
      const buyer = await verifiedCollector(test);
      const order = await buyer.caller.drops.reserve({
        collectionId: collection.id,
        quantity: 22,
        idempotencyKey: key(),
      });
      expect(order).toMatchObject({ amountFen: 2_200_000_000, unitPriceFen: 100_000_000 });
      const intent = await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
      expect(intent.amountFen).toBe(2_200_000_000);
      await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
      await test.platform.sandboxPayments!.whenIdle();
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("paid");
    });

    it("never opens a cashier for a ¥0 order, nor refunds a free airdrop order: clear refusals, no 500", async () => {
      const free = await publishedCollection(test, { priceFen: 0, editionSize: 5 });
      const buyer = await verifiedCollector(test);
      const order = await buyer.caller.drops.reserve({ collectionId: free.id, quantity: 1, idempotencyKey: key() });
      await expectAppError(
        buyer.caller.payments.createIntent({ orderNo: order.orderNo }),
        "payments.freeOrder",
        "PRECONDITION_FAILED",
      );

      const collection = await publishedCollection(test, { editionSize: 5 });
      const person = await login(test);
      await test.platform.identity.assignIssuerStaff(test.platform.db, person.user.id, collection.issuerId);
      const staff = (await callerFor(test.platform, { token: person.token })).caller;
      const recipient = await verifiedCollector(test);
      await staff.studio.airdrop({ collectionId: collection.id, recipients: [recipient.phone] });
      const [gift] = await recipient.caller.orders.mine();
      expect(gift).toMatchObject({ status: "paid", amountFen: 0 });
      const ops = await operator(test);
      await expectAppError(
        ops.payments.refund({ orderNo: gift!.orderNo, reason: "误操作" }),
        "payments.nothingToRefund",
        "PRECONDITION_FAILED",
      );
      await expectAppError(
        recipient.caller.payments.createIntent({ orderNo: gift!.orderNo }),
        "payments.freeOrder",
        "PRECONDITION_FAILED",
      );
    });

    it("scopes an idempotency key to its collection: the same key on another collection is another order", async () => {
      const first = await publishedCollection(test, { priceFen: 1990 });
      const second = await publishedCollection(test, { priceFen: 500 });
      const buyer = await verifiedCollector(test);
      const sameKey = key();
      const a = await buyer.caller.drops.reserve({ collectionId: first.id, quantity: 1, idempotencyKey: sameKey });
      const b = await buyer.caller.drops.reserve({ collectionId: second.id, quantity: 1, idempotencyKey: sameKey });
      expect(b.orderNo).not.toBe(a.orderNo);
      expect(b).toMatchObject({ collectionId: second.id, amountFen: 500 });
      // A retry on the first collection is still the first order.
      const again = await buyer.caller.drops.reserve({ collectionId: first.id, quantity: 1, idempotencyKey: sameKey });
      expect(again.orderNo).toBe(a.orderNo);
      // Another caller's key is theirs alone.
      const other = await verifiedCollector(test);
      const c = await other.caller.drops.reserve({ collectionId: first.id, quantity: 1, idempotencyKey: sameKey });
      expect(c.orderNo).not.toBe(a.orderNo);
    });
  });
}

describe("Alipay seller id", () => {
  const alipay = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const fields = (sellerId?: string) =>
    ({
      notify_time: "2026-12-01 10:00:00",
      notify_id: "n1",
      app_id: "2021000000000001",
      trade_no: "2026120122001400000000000001",
      out_trade_no: "SZ20261201AAAAAAAAAAAA",
      trade_status: "TRADE_SUCCESS",
      total_amount: "19.90",
      ...(sellerId === undefined ? {} : { seller_id: sellerId }),
    }) as never;
  const expected = { publicKey: alipay.publicKey, appId: "2021000000000001", sellerId: "2088000000000001" };

  it("refuses a correctly signed notification for another seller_id, or none, and accepts ours", () => {
    const ours = verifyAlipayNotification(
      buildAlipayNotificationBody(fields("2088000000000001"), alipay.privateKey),
      expected,
    );
    expect(ours.kind).toBe("paid");
    for (const seller of ["2088999999999999", undefined]) {
      expect(() =>
        verifyAlipayNotification(buildAlipayNotificationBody(fields(seller), alipay.privateKey), expected),
      ).toThrowError(expect.objectContaining({ reason: "seller-id" }));
    }
  });
});

for (const database of databasesUnderTest()) {
  describe(`WeChat Pay trade refunded at WeChat Pay after a lost notification (${database.name})`, () => {
    const merchant = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const platformKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const APP_ID = "wx8888888888888888";
    const MCH_ID = "1230000109";
    const MCH_SERIAL = "444F4864EA9B34415C2E8C9A0A5C2E1E29B1D8C0";
    const PUB_KEY_ID = "PUB_KEY_ID_0112300001092026120200000000000001";
    const API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01";
    let gateway: WechatpayGatewayStandIn;
    let test: TestPlatform;

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
      test = await createTestPlatform(database, {
        env: {
          PUBLIC_ORIGIN: "https://shop.example.test",
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
    });
    afterAll(async () => {
      await test?.close();
      await gateway?.close();
    });

    it("reads trade state REFUND as not paid: the expiry job neither mints nor counts it paid", async () => {
      const collection = await publishedCollection(test, { priceFen: 1990, editionSize: 5 });
      const buyer = await verifiedCollector(test);
      const order = await buyer.caller.drops.reserve({
        collectionId: collection.id,
        quantity: 1,
        idempotencyKey: key(),
      });
      await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
      // Paid at WeChat Pay; the notification never arrives; then the trade is refunded at WeChat Pay.
      gateway.pay(order.orderNo, test.clock.now());
      gateway.trades.get(order.orderNo)!.state = "REFUND";
      test.clock.advance(11 * 60_000);
      expect(await test.platform.payments.settleExpiring(test.platform.db)).toMatchObject({ paidLate: 0, expired: 1 });
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("expired");
      const [jobs] = await rows<{ n: number }>(test, sql`select count(*)::int as n from mint_jobs`);
      expect(jobs!.n).toBe(0);
      expect(await alertCount(test, "refunded-at-provider")).toBe(1);
      expect(await alertAudits(test, "refunded-at-provider")).toBe(1);
    });
  });
}
