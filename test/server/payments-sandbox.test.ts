import { generateKeyPairSync } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import {
  ALIPAY_RETRY_SCHEDULE_MS,
  SANDBOX_RETRY_DELAYS_MS,
  type SandboxPaymentProvider,
  createSandboxPaymentProvider,
  parseAlipayStatement,
} from "../../server/providers/payments/sandbox.js";
import {
  type PaymentNotification,
  type PaymentNotificationError,
  PaymentOperationError,
} from "../../server/providers/payments/types.js";

const keyPair = generateKeyPairSync("rsa", { modulusLength: 2048 });

interface Received {
  contentType: string | undefined;
  fields: URLSearchParams;
  notification?: PaymentNotification;
  error?: unknown;
}

describe("sandbox payment provider", () => {
  let server: Server;
  let notifyUrl: string;
  /** What the merchant endpoint received, in order. */
  const inbox: Received[] = [];
  /** Answers to give instead of the provider's, one per request, before answering normally. */
  const script: string[] = [];
  let provider: SandboxPaymentProvider;
  let clock: Date;

  beforeAll(async () => {
    // The merchant's notification endpoint: verifies with the provider, answers as it says (unless scripted).
    server = createServer(async (request, response) => {
      let body = "";
      for await (const chunk of request) body += String(chunk);
      const received: Received = { contentType: request.headers["content-type"], fields: new URLSearchParams(body) };
      let accepted = false;
      try {
        received.notification = provider.parseNotification({}, body, new Date());
        accepted = true;
      } catch (error) {
        received.error = error;
      }
      inbox.push(received);
      const answer = provider.answer(accepted);
      response.writeHead(answer.status, { "content-type": answer.contentType });
      response.end(script.shift() ?? answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/payments/notify/sandbox`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    inbox.length = 0;
    script.length = 0;
    clock = new Date("2024-05-01T02:00:00Z"); // 10:00 in China
    provider = createSandboxPaymentProvider({ keyPair, retryDelaysMs: [10, 10, 10], now: () => clock });
  });
  afterEach(async () => {
    provider.close();
    await provider.whenIdle();
  });

  const intent = (outTradeNo: string, amountFen = 1990, subject = "敦煌飞天 #12") =>
    provider.createIntent({
      outTradeNo,
      amountFen,
      subject,
      expiresAt: new Date(clock.getTime() + 15 * 60_000),
      notifyUrl,
    });

  async function paid(outTradeNo: string, amountFen = 1990) {
    await intent(outTradeNo, amountFen);
    const delivery = await provider.pay(outTradeNo);
    expect(delivery.delivered).toBe(true);
    inbox.length = 0;
  }

  async function operationError(promise: Promise<unknown>): Promise<string> {
    const error: unknown = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(PaymentOperationError);
    return (error as PaymentOperationError).code;
  }

  it("scales Alipay's retry schedule down by 1000 by default", () => {
    expect(ALIPAY_RETRY_SCHEDULE_MS).toEqual([240_000, 600_000, 600_000, 3_600_000, 7_200_000, 21_600_000, 54_000_000]);
    expect(SANDBOX_RETRY_DELAYS_MS).toEqual([240, 600, 600, 3_600, 7_200, 21_600, 54_000]);
  });

  it("creates an intent with a QR code and a cashier path, the trade waiting for payment", async () => {
    expect(await intent("D1")).toEqual({
      provider: "sandbox",
      outTradeNo: "D1",
      qrCode: "sandbox://pay/D1",
      cashierPath: "/pay/sandbox/cashier/D1",
    });
    expect(provider.trade("D1")).toMatchObject({ status: "WAIT_BUYER_PAY", amountFen: 1990, subject: "敦煌飞天 #12" });
    expect(provider.trade("D1")?.tradeNo).toMatch(/^2024050122001\d{15}$/);
    expect(await provider.queryOrder("D1")).toBeNull();
    expect(provider.publicKeyPem).toContain("-----BEGIN PUBLIC KEY-----");
    expect(provider.appId).toBe("sandbox-app");
  });

  it("gives the same intent for the same request and refuses a different one for the same order", async () => {
    const first = await intent("D1");
    expect(await intent("D1")).toEqual(first);
    expect(await operationError(intent("D1", 1))).toBe("conflict");
  });

  it("refuses intents with a bad amount, order number, window or notify URL", async () => {
    const base = {
      outTradeNo: "D1",
      amountFen: 100,
      subject: "x",
      expiresAt: new Date(clock.getTime() + 60_000),
      notifyUrl,
    };
    for (const request of [
      { ...base, amountFen: 0 },
      { ...base, amountFen: 19.9 },
      { ...base, outTradeNo: "D 1" },
      { ...base, expiresAt: clock },
      { ...base, notifyUrl: "/relative" },
      { ...base, notifyUrl: "ftp://example.com/notify" },
    ])
      expect(await operationError(provider.createIntent(request))).toBe("invalid-request");
  });

  it("delivers a signed Alipay notification on pay that the merchant verifies with parseNotification", async () => {
    await intent("D1");
    expect(await provider.pay("D1")).toMatchObject({ outTradeNo: "D1", kind: "paid", delivered: true, attempts: 1 });
    expect(inbox).toHaveLength(1);
    const [received] = inbox;
    expect(received?.contentType).toBe("application/x-www-form-urlencoded; charset=utf-8");
    expect(received?.fields.get("sign_type")).toBe("RSA2");
    expect(received?.fields.get("total_amount")).toBe("19.90");
    expect(received?.notification).toMatchObject({
      provider: "sandbox",
      kind: "paid",
      appId: "sandbox-app",
      outTradeNo: "D1",
      tradeNo: provider.trade("D1")?.tradeNo,
      amountFen: 1990,
      occurredAt: clock,
    });
    expect(await provider.queryOrder("D1")).toMatchObject({ kind: "paid", amountFen: 1990, occurredAt: clock });
  });

  it("retries with the same notify_id when the answer is not exactly `success`, until it is", async () => {
    await intent("D1");
    script.push("fail", "success\n");
    expect(await provider.pay("D1")).toMatchObject({ delivered: true, attempts: 3 });
    expect(inbox).toHaveLength(3);
    expect(new Set(inbox.map((received) => received.notification?.notifyId)).size).toBe(1);
  });

  it("gives up after the last retry delay", async () => {
    await intent("D1");
    script.push("fail", "fail", "fail", "fail", "fail");
    expect(await provider.pay("D1")).toMatchObject({ delivered: false, attempts: 4 });
    expect(inbox).toHaveLength(4);
    expect(provider.trade("D1")?.status).toBe("TRADE_SUCCESS");
  });

  it("stops retrying when closed", async () => {
    provider = createSandboxPaymentProvider({ keyPair, retryDelaysMs: [60_000], now: () => clock });
    await intent("D1");
    script.push("fail");
    const delivery = provider.pay("D1");
    while (inbox.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    provider.close();
    expect(await delivery).toMatchObject({ delivered: false, attempts: 1 });
  });

  it("refuses to pay a paid, closed or unknown trade", async () => {
    await paid("D1");
    expect(await operationError(provider.pay("D1"))).toBe("trade-paid");
    await intent("D2");
    await provider.closeOrder("D2");
    expect(await operationError(provider.pay("D2"))).toBe("trade-closed");
    expect(await operationError(provider.pay("nope"))).toBe("unknown-trade");
  });

  it("takes a payment after the window by default, so late payments can be simulated", async () => {
    await intent("D1");
    clock = new Date(clock.getTime() + 16 * 60_000);
    expect(await provider.pay("D1")).toMatchObject({ delivered: true });
    expect(inbox[0]?.notification).toMatchObject({ kind: "paid", occurredAt: clock });
  });

  it("closes a trade whose window has passed when told to enforce expiry", async () => {
    provider = createSandboxPaymentProvider({ keyPair, now: () => clock, enforceExpiry: true });
    await intent("D1");
    clock = new Date(clock.getTime() + 16 * 60_000);
    expect(await operationError(provider.pay("D1"))).toBe("trade-closed");
    expect(await provider.queryOrder("D1")).toMatchObject({
      kind: "closed",
      occurredAt: provider.trade("D1")?.expiresAt,
    });
  });

  it("closes an unpaid trade and refuses to close a paid one", async () => {
    await intent("D1");
    await provider.closeOrder("D1");
    expect(await provider.queryOrder("D1")).toMatchObject({ kind: "closed", outTradeNo: "D1", amountFen: 1990 });
    await provider.closeOrder("D1");
    await provider.closeOrder("unknown");
    await paid("D2");
    expect(await operationError(provider.closeOrder("D2"))).toBe("trade-paid");
  });

  it("sends a refunded notification for a partial refund, keeping the trade TRADE_SUCCESS", async () => {
    await paid("D1");
    expect(await provider.refund({ outTradeNo: "D1", refundNo: "R1", refundFen: 500, totalFen: 1990 })).toEqual({
      accepted: true,
    });
    await provider.whenIdle();
    expect(inbox).toHaveLength(1);
    expect(inbox[0]?.fields.get("trade_status")).toBe("TRADE_SUCCESS");
    expect(inbox[0]?.notification).toMatchObject({ kind: "refunded", refundFen: 500, refundNo: "R1", amountFen: 1990 });
    expect(await provider.queryOrder("D1")).toMatchObject({ kind: "refunded", refundFen: 500, refundNo: "R1" });
  });

  it("closes the trade with a TRADE_CLOSED notification carrying the cumulative refund on a full refund", async () => {
    await paid("D1");
    await provider.refund({ outTradeNo: "D1", refundNo: "R1", refundFen: 990, totalFen: 1990 });
    await provider.refund({ outTradeNo: "D1", refundNo: "R2", refundFen: 1000, totalFen: 1990 });
    await provider.whenIdle();
    const last = inbox.find((received) => received.notification?.refundNo === "R2");
    expect(last?.fields.get("trade_status")).toBe("TRADE_CLOSED");
    expect(last?.fields.get("refund_fee")).toBe("19.90");
    expect(last?.notification).toMatchObject({ kind: "refunded", refundFen: 1990 });
    expect(provider.trade("D1")).toMatchObject({ status: "TRADE_CLOSED", refundedFen: 1990 });
  });

  it("refuses to refund more than was paid, an unpaid trade, or with the wrong total", async () => {
    await paid("D1");
    expect(await provider.refund({ outTradeNo: "D1", refundNo: "R1", refundFen: 1991, totalFen: 1990 })).toEqual({
      accepted: false,
    });
    expect(
      (await provider.refund({ outTradeNo: "D1", refundNo: "R2", refundFen: 1500, totalFen: 1990 })).accepted,
    ).toBe(true);
    expect((await provider.refund({ outTradeNo: "D1", refundNo: "R3", refundFen: 491, totalFen: 1990 })).accepted).toBe(
      false,
    );
    expect((await provider.refund({ outTradeNo: "D1", refundNo: "R4", refundFen: 10, totalFen: 2000 })).accepted).toBe(
      false,
    );
    await intent("D2");
    expect((await provider.refund({ outTradeNo: "D2", refundNo: "R5", refundFen: 10, totalFen: 1990 })).accepted).toBe(
      false,
    );
    expect((await provider.refund({ outTradeNo: "D9", refundNo: "R6", refundFen: 10, totalFen: 1990 })).accepted).toBe(
      false,
    );
    expect(provider.trade("D1")?.refundedFen).toBe(1500);
  });

  it("refunds once per refund number, accepting the same request again without a second refund", async () => {
    await paid("D1");
    const request = { outTradeNo: "D1", refundNo: "R1", refundFen: 700, totalFen: 1990 };
    expect((await provider.refund(request)).accepted).toBe(true);
    expect((await provider.refund(request)).accepted).toBe(true);
    expect((await provider.refund({ ...request, refundFen: 800 })).accepted).toBe(false);
    await provider.whenIdle();
    expect(provider.trade("D1")).toMatchObject({ refundedFen: 700, refunds: [{ refundNo: "R1", refundFen: 700 }] });
    expect(inbox).toHaveLength(1);
  });

  it("refuses a notification signed by another key or for another app id", async () => {
    const stranger = createSandboxPaymentProvider({ retryDelaysMs: [] });
    const otherApp = createSandboxPaymentProvider({ keyPair, appId: "other-app", retryDelaysMs: [] });
    for (const sender of [stranger, otherApp]) {
      await sender.createIntent({
        outTradeNo: "X1",
        amountFen: 100,
        subject: "x",
        expiresAt: new Date(Date.now() + 60_000),
        notifyUrl,
      });
      expect(await sender.pay("X1")).toMatchObject({ delivered: false });
    }
    const reasons = inbox.map((received) => (received.error as PaymentNotificationError).reason);
    expect(reasons).toEqual(["signature", "app-id"]);
  });

  it("answers `success` as Alipay expects", () => {
    expect(provider.answer(true)).toMatchObject({ status: 200, body: "success" });
    expect(provider.answer(false).body).not.toBe("success");
  });

  it("writes the day's trade bill as Alipay's CSV and reads it back with exact fen amounts", async () => {
    clock = new Date("2024-04-30T15:59:00Z"); // 23:59 on 30 April in China: the day before
    await paid("D0", 100);
    clock = new Date("2024-05-01T01:00:00Z");
    await paid("D1", 1990);
    await intent("D2", 29, '他说"好",然后 #2');
    clock = new Date("2024-05-01T01:05:00Z");
    await provider.pay("D2");
    await intent("D3", 5000); // never paid: not in the bill
    clock = new Date("2024-05-01T03:00:00Z");
    await provider.refund({ outTradeNo: "D1", refundNo: "R1", refundFen: 990, totalFen: 1990 });
    clock = new Date("2024-05-01T16:00:00Z"); // 00:00 on 2 May: the day after
    await provider.refund({ outTradeNo: "D1", refundNo: "R2", refundFen: 1000, totalFen: 1990 });
    await provider.whenIdle();

    const csv = provider.statementCsv("2024-05-01");
    const lines = csv.split("\n");
    expect(lines[0]).toMatch(/^#/);
    expect(csv).toContain("#起始日期：[2024年05月01日 00:00:00]   终止日期：[2024年05月02日 00:00:00]");
    expect(lines.find((line) => !line.startsWith("#"))).toMatch(
      /^支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,.*,订单金额（元）,商家实收（元）,/,
    );
    expect(csv).toContain("#交易合计：2笔，商家实收：20.19元");
    expect(csv).toContain("#退款合计：1笔，商家实收：-9.90元");

    const statement = parseAlipayStatement(csv);
    expect(statement.account).toBe("sandbox-app");
    expect(statement.summary).toEqual({ tradeCount: 2, tradeFen: 2019, refundCount: 1, refundFen: 990 });
    expect(
      statement.rows.map(({ outTradeNo, type, subject, amountFen, receivedFen, refundFen, refundNo }) => ({
        outTradeNo,
        type,
        subject,
        amountFen,
        receivedFen,
        refundFen,
        refundNo,
      })),
    ).toEqual([
      {
        outTradeNo: "D1",
        type: "交易",
        subject: "敦煌飞天 #12",
        amountFen: 1990,
        receivedFen: 1990,
        refundFen: 0,
        refundNo: undefined,
      },
      {
        outTradeNo: "D2",
        type: "交易",
        subject: '他说"好",然后 #2',
        amountFen: 29,
        receivedFen: 29,
        refundFen: 0,
        refundNo: undefined,
      },
      {
        outTradeNo: "D1",
        type: "退款",
        subject: "敦煌飞天 #12",
        amountFen: 1990,
        receivedFen: -990,
        refundFen: 990,
        refundNo: "R1",
      },
    ]);
    expect(statement.rows[0]).toMatchObject({
      tradeNo: provider.trade("D1")?.tradeNo,
      createdAt: new Date("2024-05-01T01:00:00Z"),
      finishedAt: new Date("2024-05-01T01:00:00Z"),
    });
    expect(parseAlipayStatement(provider.statementCsv(new Date("2024-05-01T16:30:00Z"))).summary).toEqual({
      tradeCount: 0,
      tradeFen: 0,
      refundCount: 1,
      refundFen: 1000,
    });
  });

  it("refuses a bill whose summary disagrees with its rows", async () => {
    await paid("D1", 1990);
    const csv = provider.statementCsv("2024-05-01").replace("商家实收：19.90元", "商家实收：19.91元");
    expect(() => parseAlipayStatement(csv)).toThrow(/交易合计/);
  });
});
