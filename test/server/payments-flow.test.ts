import { generateKeyPairSync } from "node:crypto";

import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import { buildAlipayNotificationBody, formatChinaTime } from "../../server/providers/payments/alipay-notification.js";
import { createSandboxPaymentProvider } from "../../server/providers/payments/sandbox.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  freePort,
  expectAppError,
  login,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { recordFigures } from "./reliability-report.js";

let keyCounter = 0;
const key = () => `pay-${Date.now()}-${++keyCounter}`;

for (const database of databasesUnderTest()) {
  describe(`payments end to end (${database.name})`, () => {
    let test: TestPlatform;
    let app: FastifyInstance;
    let provider: ReturnType<typeof createSandboxPaymentProvider>;
    const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const otherKey = generateKeyPairSync("rsa", { modulusLength: 2048 });

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

    async function count(table: string, where = "true"): Promise<number> {
      const result = (await test.platform.db.execute(
        sql.raw(`select count(*)::int as n from ${table} where ${where}`),
      )) as unknown as {
        rows: { n: number }[];
      };
      return result.rows[0]!.n;
    }

    async function reservedOrder(quantity = 1) {
      const collection = await publishedCollection(test, { priceFen: 1990, perPersonLimit: 2, editionSize: 10 });
      const buyer = await verifiedCollector(test);
      const order = await buyer.caller.drops.reserve({ collectionId: collection.id, quantity, idempotencyKey: key() });
      const intent = await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
      return { collection, buyer, order, intent };
    }

    /** A notification as the sandbox would sign it, with fields of our choosing. */
    function notification(fields: Record<string, string>, signer = keyPair.privateKey) {
      const now = test.clock.now();
      return buildAlipayNotificationBody(
        {
          notify_time: formatChinaTime(now),
          notify_type: "trade_status_sync",
          notify_id: `n${Date.now()}${Math.random()}`.replace(".", ""),
          app_id: "sandbox-app",
          charset: "utf-8",
          version: "1.0",
          sign_type: "RSA2",
          trade_no: "2026112422001400000000000001",
          trade_status: "TRADE_SUCCESS",
          gmt_payment: formatChinaTime(now),
          ...fields,
        } as never,
        signer,
      );
    }

    const post = (body: string) =>
      app.inject({
        method: "POST",
        url: "/pay/notify/sandbox",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        payload: body,
      });

    it("pays through the sandbox cashier: the signed notification marks the order paid and writes its mint job", async () => {
      const { buyer, order, intent, collection } = await reservedOrder(2);
      expect(intent).toMatchObject({ provider: "sandbox", amountFen: 3980, status: "pending" });
      expect(intent.cashierPath).toBe(`/pay/sandbox/cashier/${order.orderNo}`);
      const page = await app.inject({ url: intent.cashierPath! });
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain("¥39.80");

      const paid = await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
      expect(paid.json()).toMatchObject({ paid: true, delivered: true, attempts: 1 });
      const detail = await buyer.caller.orders.get({ orderNo: order.orderNo });
      expect(detail.status).toBe("paid");
      expect(detail.history.map((h) => h.to)).toEqual(["created", "paid"]);
      expect(await buyer.caller.drops.stock({ collectionId: collection.id })).toMatchObject({
        sold: 2,
        reserved: 0,
        available: 8,
      });
      expect(
        await count(
          "mint_jobs",
          `order_id = ${detail.editions.length > 0 ? order.editions.length && (await test.platform.drops.orderByNo(test.platform.db, order.orderNo))!.id : 0}`,
        ),
      ).toBe(1);
      const [job] = (
        (await test.platform.db.execute(sql`select * from mint_jobs`)) as unknown as {
          rows: { recipient: string; quantity: number }[];
        }
      ).rows;
      expect(job).toMatchObject({ quantity: 2, recipient: (await buyer.caller.kyc.status()).address });
    });

    it("treats replays as the same payment: applied once, answered success every time", async () => {
      const { order } = await reservedOrder();
      const body = notification({ out_trade_no: order.orderNo, total_amount: "19.90" });
      const answers = [];
      for (let i = 0; i < 100; i++) answers.push((await post(body)).body);
      expect(new Set(answers)).toEqual(new Set(["success"]));
      expect(await count("mint_jobs")).toBe(1);
      expect(await count("payment_notifications", "outcome = 'applied'")).toBe(1);
      expect(await count("payment_notifications", "outcome = 'duplicate'")).toBe(99);
    });

    it("refuses a forged signature, a tampered amount, another app id and an unknown order, changing nothing", async () => {
      const { order } = await reservedOrder();
      const forged = await post(
        notification({ out_trade_no: order.orderNo, total_amount: "19.90" }, otherKey.privateKey),
      );
      expect(forged.body).not.toBe("success");
      const genuine = notification({ out_trade_no: order.orderNo, total_amount: "19.90" });
      const tampered = genuine.replace("total_amount=19.90", "total_amount=0.01");
      expect((await post(tampered)).body).not.toBe("success");
      const cheap = await post(notification({ out_trade_no: order.orderNo, total_amount: "0.01" }));
      expect(cheap.body).not.toBe("success");
      const otherApp = await post(
        notification({ out_trade_no: order.orderNo, total_amount: "19.90", app_id: "someone-else" }),
      );
      expect(otherApp.body).not.toBe("success");
      const unknown = await post(notification({ out_trade_no: "SZ20261124AAAAAAAAAAAA", total_amount: "19.90" }));
      expect(unknown.body).not.toBe("success");

      expect((await test.platform.drops.orderByNo(test.platform.db, order.orderNo))!.status).toBe("created");
      expect(await count("mint_jobs")).toBe(0);
      const reasons = (
        (await test.platform.db.execute(sql`select reason from payment_notifications order by id`)) as unknown as {
          rows: { reason: string }[];
        }
      ).rows.map((r) => r.reason);
      expect(reasons).toEqual(["signature", "signature", "amount-mismatch", "app-id", "unknown-order"]);
    });

    it("counts each kind of notification attack: refused, or applied once", async () => {
      const outcomes = async () =>
        (
          (await test.platform.db.execute(
            sql`select outcome, reason, count(*)::int as n from payment_notifications group by outcome, reason`,
          )) as unknown as { rows: { outcome: string; reason: string; n: number }[] }
        ).rows;
      const accepted = (answer: { body: string }) => answer.body === "success";
      const { order } = await reservedOrder();
      const unpaid = await reservedOrder();
      const figures = {
        forged_signature_accepted: accepted(
          await post(notification({ out_trade_no: order.orderNo, total_amount: "19.90" }, otherKey.privateKey)),
        ),
        wrong_app_id_accepted: accepted(
          await post(notification({ out_trade_no: order.orderNo, total_amount: "19.90", app_id: "someone-else" })),
        ),
        tampered_amount_accepted: accepted(
          await post(
            notification({ out_trade_no: order.orderNo, total_amount: "19.90" }).replace(
              "total_amount=19.90",
              "total_amount=0.01",
            ),
          ),
        ),
        signed_amount_mismatch_accepted: accepted(
          await post(notification({ out_trade_no: order.orderNo, total_amount: "0.01" })),
        ),
        unknown_order_accepted: accepted(
          await post(notification({ out_trade_no: "SZ20261124AAAAAAAAAAAA", total_amount: "19.90" })),
        ),
        refund_before_payment_accepted: accepted(
          await post(
            notification({
              out_trade_no: unpaid.order.orderNo,
              total_amount: "19.90",
              trade_status: "TRADE_CLOSED",
              refund_fee: "19.90",
              gmt_refund: formatChinaTime(test.clock.now()),
            }),
          ),
        ),
        replay: { sent: 100, applied: 0, duplicates: 0 },
      };
      const genuine = notification({ out_trade_no: order.orderNo, total_amount: "19.90" });
      for (let i = 0; i < 100; i++) await post(genuine);
      const rows = await outcomes();
      figures.replay.applied = rows.filter((r) => r.outcome === "applied").reduce((n, r) => n + r.n, 0);
      figures.replay.duplicates = rows.filter((r) => r.outcome === "duplicate").reduce((n, r) => n + r.n, 0);

      expect(figures).toMatchObject({
        forged_signature_accepted: false,
        wrong_app_id_accepted: false,
        tampered_amount_accepted: false,
        signed_amount_mismatch_accepted: false,
        unknown_order_accepted: false,
        refund_before_payment_accepted: false,
        replay: { sent: 100, applied: 1, duplicates: 99 },
      });
      // A refund notice for an order never paid changes nothing, whatever the answer.
      expect((await test.platform.drops.orderByNo(test.platform.db, unpaid.order.orderNo))!.status).toBe("created");
      expect(await count("mint_jobs")).toBe(1);
      if (database.name === "pglite") {
        recordFigures("payment_notification_attacks", {
          ...figures,
          unpaid_order_status_after_refund_notice: "created",
          recorded_outcomes: rows,
        });
      }
    });

    it("finds a payment whose notifications were lost, and refunds it when the order had expired", async () => {
      const { order, buyer } = await reservedOrder();
      // The collector pays while our server is down: every notification attempt fails.
      const port = Number(new URL(test.platform.config.env.PUBLIC_ORIGIN).port);
      await app.close();
      const delivery = await test.platform.sandboxPayments!.pay(order.orderNo);
      expect(delivery).toMatchObject({ delivered: false, attempts: 3 });
      app = await buildHttpApp(test.platform, { logger: false });
      await app.listen({ host: "127.0.0.1", port });
      test.clock.advance(10 * 60_000);
      await test.platform.drops.expireDue(test.platform.db);
      // Asking the provider reveals the payment: too late for the order, so the money goes back.
      expect(await test.platform.payments.syncWithProvider(test.platform.db, order.orderNo)).toEqual({
        outcome: "applied",
        kind: "paid",
      });
      await test.platform.sandboxPayments!.whenIdle();
      const detail = await buyer.caller.orders.get({ orderNo: order.orderNo });
      expect(detail.status).toBe("expired");
      expect(detail.refund).toEqual({
        status: "refunded",
        amountFen: 1990,
        refundedFen: 1990,
        kind: "late-payment",
        reasonCode: null,
      });
      expect(await count("mint_jobs")).toBe(0);
      expect(await count("refunds", "status = 'succeeded'")).toBe(1);
      expect(test.platform.sandboxPayments!.trade(order.orderNo)!.refundedFen).toBe(1990);
    });

    it("lets an operator refund a paid order before delivery, returning its editions", async () => {
      const { order, intent, buyer, collection } = await reservedOrder();
      await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
      const operator = await login(test);
      await promote(test.platform, operator.user.id, "operator");
      const { callerFor } = await import("./helpers.js");
      const { caller: ops } = await callerFor(test.platform, { token: operator.token });
      await expectAppError(
        buyer.caller.payments.refund({ orderNo: order.orderNo, reason: "用户申请" }),
        "auth.forbidden",
        "FORBIDDEN",
      );
      expect(await count("mint_jobs", "status = 'pending'")).toBe(1);
      await ops.payments.refund({ orderNo: order.orderNo, reason: "用户申请退款" });
      // The mint job left the pipeline with the refund request: the order cannot be minted and refunded.
      expect(await count("mint_jobs", "status = 'pending'")).toBe(0);
      expect(await count("mint_jobs", "status = 'parked' and parked_reason = 'refund requested by an operator'")).toBe(
        1,
      );
      await test.platform.sandboxPayments!.whenIdle();
      const detail = await buyer.caller.orders.get({ orderNo: order.orderNo });
      expect(detail.status).toBe("refunded");
      expect(await buyer.caller.drops.stock({ collectionId: collection.id })).toMatchObject({ sold: 0, available: 10 });
      await expectAppError(ops.payments.refund({ orderNo: order.orderNo, reason: "再次" }), "order.wrongState");
    });

    it("asks the provider again for a refund whose first request never reached it, and refunds once", async () => {
      const { order, intent, buyer } = await reservedOrder();
      await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
      await test.platform.sandboxPayments!.whenIdle();
      const operator = await login(test);
      await promote(test.platform, operator.user.id, "operator");
      const { callerFor } = await import("./helpers.js");
      const { caller: ops } = await callerFor(test.platform, { token: operator.token });
      // The provider cannot be reached when the refund is requested (or the process dies right after).
      const refund = provider.refund;
      provider.refund = () => Promise.reject(new Error("connect ECONNREFUSED"));
      await ops.payments.refund({ orderNo: order.orderNo, reason: "用户申请退款" });
      provider.refund = refund;
      expect(await count("refunds", "status = 'requested'")).toBe(1);
      expect(provider.trade(order.orderNo)!.refundedFen).toBe(0);

      expect(await test.platform.payments.resumeRefunds(test.platform.db, 30_000)).toBe(0); // asked too recently
      test.clock.advance(31_000);
      expect(await test.platform.payments.resumeRefunds(test.platform.db, 30_000)).toBe(1);
      await test.platform.sandboxPayments!.whenIdle();
      expect((await buyer.caller.orders.get({ orderNo: order.orderNo })).status).toBe("refunded");
      expect(await count("refunds", "status = 'succeeded'")).toBe(1);
      expect(await test.platform.payments.resumeRefunds(test.platform.db, 30_000)).toBe(0);
      expect(provider.trade(order.orderNo)!.refundedFen).toBe(1990);
    });

    it("refuses to open a cashier for someone else's order or an expired one", async () => {
      const { order, buyer } = await reservedOrder();
      const other = await verifiedCollector(test);
      await expectAppError(
        other.caller.payments.createIntent({ orderNo: order.orderNo }),
        "order.notFound",
        "NOT_FOUND",
      );
      test.clock.advance(10 * 60_000);
      await expectAppError(
        buyer.caller.payments.createIntent({ orderNo: order.orderNo }),
        "order.wrongState",
        "PRECONDITION_FAILED",
      );
    });
  });
}

describe("settling and reconciling payments", () => {
  let test: TestPlatform;
  let app: FastifyInstance;
  let port: number;

  beforeEach(async () => {
    port = await freePort();
    let clockRef: () => Date = () => new Date();
    const provider = createSandboxPaymentProvider({ retryDelaysMs: [10], now: () => clockRef() });
    test = await createTestPlatform(databasesUnderTest()[0]!, {
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

  it("asks the provider before expiring an order, so a payment with a lost notification is kept", async () => {
    const collection = await publishedCollection(test);
    const buyer = await verifiedCollector(test);
    const paidQuietly = await buyer.caller.drops.reserve({
      collectionId: collection.id,
      quantity: 1,
      idempotencyKey: key(),
    });
    const abandoned = await buyer.caller.drops.reserve({
      collectionId: collection.id,
      quantity: 1,
      idempotencyKey: key(),
    });
    await buyer.caller.payments.createIntent({ orderNo: paidQuietly.orderNo });
    await buyer.caller.payments.createIntent({ orderNo: abandoned.orderNo });
    await app.close();
    await test.platform.sandboxPayments!.pay(paidQuietly.orderNo);
    app = await buildHttpApp(test.platform, { logger: false });
    await app.listen({ host: "127.0.0.1", port });

    test.clock.advance(10 * 60_000);
    expect(await test.platform.payments.settleExpiring(test.platform.db)).toEqual({ paidLate: 1, expired: 1 });
    expect((await buyer.caller.orders.get({ orderNo: paidQuietly.orderNo })).status).toBe("paid");
    expect((await buyer.caller.orders.get({ orderNo: abandoned.orderNo })).status).toBe("expired");
    expect(test.platform.sandboxPayments!.trade(abandoned.orderNo)!.status).toBe("TRADE_CLOSED");
  });

  it("reconciles a day's statement with our payments and lists every mismatch", async () => {
    const collection = await publishedCollection(test);
    const buyer = await verifiedCollector(test);
    const order = await buyer.caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() });
    const intent = await buyer.caller.payments.createIntent({ orderNo: order.orderNo });
    await app.inject({ method: "POST", url: `${intent.cashierPath}/pay` });
    const operator = await login(test);
    await promote(test.platform, operator.user.id, "operator");
    const { callerFor } = await import("./helpers.js");
    const { caller: ops } = await callerFor(test.platform, { token: operator.token });
    const day = formatChinaTime(test.clock.now()).slice(0, 10);
    const paidAt = test.clock.now();
    // A day that has not ended is refused; the next morning it can be reconciled, with the operator as actor.
    await expectAppError(ops.payments.reconcile({ day }), "payments.dayNotEnded", "PRECONDITION_FAILED");
    test.clock.advance(86_400_000);
    expect(await ops.payments.reconcile({ day })).toEqual({ day, trades: 1, payments: 1, refunds: 0, mismatches: [] });
    const audit = (await test.platform.db.execute(
      sql`select actor_role, actor_user_id from audit_log where action = 'payments.reconciled' order by seq desc limit 1`,
    )) as unknown as { rows: { actor_role: string; actor_user_id: number }[] };
    expect(audit.rows[0]).toMatchObject({ actor_role: "operator", actor_user_id: operator.user.id });

    // Our record says another amount: the report names the trade.
    await test.platform.db.execute(sql`update payments set amount_fen = 1 where out_trade_no = ${order.orderNo}`);
    const report = await ops.payments.reconcile({ day });
    expect(report.mismatches).toEqual([
      { outTradeNo: order.orderNo, problem: "amount-differs", ourFen: 1, theirFen: 1990 },
    ]);
    await expectAppError(buyer.caller.payments.reconcile({ day }), "auth.forbidden", "FORBIDDEN");

    // A refund the provider confirmed matches its refund line; then each way the two can disagree is named.
    await test.platform.db.execute(sql`update payments set amount_fen = 1990 where out_trade_no = ${order.orderNo}`);
    test.clock.set(paidAt);
    await ops.payments.refund({ orderNo: order.orderNo, reason: "用户申请退款" });
    await test.platform.sandboxPayments!.whenIdle();
    test.clock.advance(86_400_000);
    expect(await ops.payments.reconcile({ day })).toMatchObject({ trades: 1, refunds: 1, mismatches: [] });
    await test.platform.db.execute(sql`update refunds set amount_fen = 5`);
    expect((await ops.payments.reconcile({ day })).mismatches).toEqual([
      { outTradeNo: order.orderNo, problem: "refund-amount-differs", ourFen: 5, theirFen: 1990 },
    ]);
    await test.platform.db.execute(
      sql`update refunds set amount_fen = 1990, status = 'requested', completed_at = null`,
    );
    expect((await ops.payments.reconcile({ day })).mismatches).toEqual([
      { outTradeNo: order.orderNo, problem: "refund-missing-here", theirFen: 1990 },
    ]);
    test.clock.set(paidAt);
  });
});
