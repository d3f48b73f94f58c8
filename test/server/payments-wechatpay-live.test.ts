import { generateKeyPairSync, verify } from "node:crypto";
import { type Server, createServer } from "node:http";
import { type AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  WechatpayGatewayError,
  createWechatpayPaymentProvider,
  parseWechatpayAuthorization,
  wechatpayRequestMessage,
} from "../../server/providers/payments/wechatpay.js";
import { parseWechatpayTime } from "../../server/providers/payments/wechatpay-crypto.js";
import { PaymentOperationError, type PaymentProvider } from "../../server/providers/payments/types.js";
import { type WechatpayGatewayStandIn, startWechatpayGateway } from "./stand-ins/wechatpay-gateway.js";

const merchant = generateKeyPairSync("rsa", { modulusLength: 2048 });
const platform = generateKeyPairSync("rsa", { modulusLength: 2048 });
const stranger = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pem = (key: typeof merchant.privateKey) => key.export({ type: "pkcs8", format: "pem" }).toString();
const spki = (key: typeof merchant.publicKey) => key.export({ type: "spki", format: "pem" }).toString();

const APP_ID = "wx8888888888888888";
const MCH_ID = "1230000109";
const MCH_SERIAL = "444F4864EA9B34415C2E8C9A0A5C2E1E29B1D8C0";
const PUB_KEY_ID = "PUB_KEY_ID_0112300001092026120200000000000001";
const API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01";
const NOTIFY_URL = "https://example.test/pay/notify/wechatpay";

let gateway: WechatpayGatewayStandIn;
let provider: PaymentProvider;

const providerWith = (overrides: Partial<Parameters<typeof createWechatpayPaymentProvider>[0]> = {}) =>
  createWechatpayPaymentProvider({
    appId: APP_ID,
    mchId: MCH_ID,
    mchSerial: MCH_SERIAL,
    privateKey: pem(merchant.privateKey),
    apiV3Key: API_V3_KEY,
    platformPublicKey: spki(platform.publicKey),
    platformPublicKeyId: PUB_KEY_ID,
    refundNotifyUrl: NOTIFY_URL,
    gateway: gateway.url,
    timeoutMs: 2_000,
    ...overrides,
  });

beforeAll(async () => {
  gateway = await startWechatpayGateway({
    appId: APP_ID,
    mchId: MCH_ID,
    mchSerial: MCH_SERIAL,
    merchantPublicKey: merchant.publicKey,
    platformPrivateKey: platform.privateKey,
    platformPublicKeyId: PUB_KEY_ID,
    apiV3Key: API_V3_KEY,
  });
  provider = providerWith();
});
afterAll(() => gateway.close());

const intent = (outTradeNo: string, amountFen = 1990, expiresAt = new Date(Date.now() + 10 * 60_000)) =>
  provider.createIntent({
    outTradeNo,
    amountFen,
    subject: "数字藏品订单 " + outTradeNo,
    expiresAt,
    notifyUrl: NOTIFY_URL,
  });

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("live WeChat Pay provider against a stand-in API v3", () => {
  it("creates a Native order with a signed request and returns its code_url", async () => {
    const expiresAt = new Date("2026-12-02T12:10:00Z");
    const created = await intent("W20261202000001", 1990, expiresAt);
    expect(created).toEqual({
      provider: "wechatpay",
      outTradeNo: "W20261202000001",
      qrCode: expect.stringMatching(/^weixin:\/\/wxpay\/bizpayurl\?pr=/),
    });
    expect(created.qrCode).toBe(gateway.trades.get("W20261202000001")?.codeUrl);

    const request = gateway.requests.at(-1)!;
    expect(request).toMatchObject({ method: "POST", path: "/v3/pay/transactions/native", verified: true });
    expect(request.headers.accept).toBe("application/json");
    expect(request.headers["content-type"]).toBe("application/json");
    expect(request.headers["user-agent"]).toMatch(/\S/);
    expect(request.headers["wechatpay-serial"]).toBe(PUB_KEY_ID);
    // The signature is checked here too, not only by the stand-in.
    const auth = parseWechatpayAuthorization(request.headers.authorization)!;
    expect(auth).toMatchObject({ mchid: MCH_ID, serial_no: MCH_SERIAL });
    expect(auth.nonce_str).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(Math.abs(Number(auth.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    const message = wechatpayRequestMessage("POST", request.path, auth.timestamp!, auth.nonce_str!, request.body);
    expect(verify("sha256", Buffer.from(message), merchant.publicKey, Buffer.from(auth.signature!, "base64"))).toBe(
      true,
    );

    expect(JSON.parse(request.body)).toEqual({
      appid: APP_ID,
      mchid: MCH_ID,
      description: "数字藏品订单 W20261202000001",
      out_trade_no: "W20261202000001",
      time_expire: "2026-12-02T20:10:00+08:00",
      notify_url: NOTIFY_URL,
      amount: { total: 1990, currency: "CNY" },
    });
    expect(parseWechatpayTime(JSON.parse(request.body).time_expire).getTime()).toBe(expiresAt.getTime());
  });

  it("parses the gateway's payment notification, posted to the merchant, as paid with its amount", async () => {
    await intent("W20261202000002", 5);
    gateway.pay("W20261202000002", new Date("2026-12-02T12:01:02Z"));
    const seen: unknown[] = [];
    const receiver: Server = createServer((request, response) => {
      let raw = "";
      request.setEncoding("utf8");
      request.on("data", (chunk: string) => (raw += chunk));
      request.on("end", () => {
        let accepted = true;
        try {
          seen.push(provider.parseNotification(request.headers as Record<string, string>, raw, new Date()));
        } catch (error) {
          seen.push(error);
          accepted = false;
        }
        const answer = provider.answer(accepted);
        response.writeHead(answer.status, { "content-type": answer.contentType }).end(answer.body);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/pay/notify/wechatpay`;
    try {
      const answered = await gateway.post(url, gateway.paymentNotification("W20261202000002"));
      expect(answered.status).toBe(200);
      expect(JSON.parse(answered.body)).toEqual({ code: "SUCCESS", message: "成功" });
      expect(seen[0]).toMatchObject({
        provider: "wechatpay",
        kind: "paid",
        appId: APP_ID,
        outTradeNo: "W20261202000002",
        tradeNo: gateway.trades.get("W20261202000002")!.transactionId,
        amountFen: 5,
        occurredAt: new Date("2026-12-02T12:01:02Z"),
      });

      // A notification whose body was altered after signing is refused, and answered so WeChat Pay retries.
      const genuine = gateway.paymentNotification("W20261202000002");
      const altered = { ...genuine, body: genuine.body.replace('"id":"', '"id":"x') };
      const refused = await gateway.post(url, altered);
      expect(refused.status).toBe(500);
      expect(JSON.parse(refused.body).code).toBe("FAIL");
      expect(seen[1]).toMatchObject({ name: "PaymentNotificationError", reason: "signature" });
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });

  it("refuses notifications signed by another key, for another merchant, or outside the clock window", () => {
    const other = createWechatpayPaymentProvider({
      appId: "wx0000000000000000",
      mchId: MCH_ID,
      mchSerial: MCH_SERIAL,
      privateKey: pem(merchant.privateKey),
      apiV3Key: API_V3_KEY,
      platformPublicKey: spki(platform.publicKey),
      platformPublicKeyId: PUB_KEY_ID,
      gateway: gateway.url,
    });
    const notification = gateway.paymentNotification("W20261202000002");
    expect(() => other.parseNotification(notification.headers, notification.body, new Date())).toThrow(
      expect.objectContaining({ reason: "app-id" }),
    );
    const strangerKeyed = providerWith({ platformPublicKey: spki(stranger.publicKey) });
    expect(() => strangerKeyed.parseNotification(notification.headers, notification.body, new Date())).toThrow(
      expect.objectContaining({ reason: "signature" }),
    );
    const late = new Date(Date.now() + 10 * 60_000);
    expect(() => provider.parseNotification(notification.headers, notification.body, late)).toThrow(
      expect.objectContaining({ reason: "timestamp" }),
    );
  });

  it("refuses an answer that is forged, altered after signing, unsigned, stale or signed by another key", async () => {
    for (const how of ["forge", "tamper", "unsigned", "stale"] as const) {
      gateway.misbehaveNext(how);
      const error = await rejection(intent(`W2026120200010${["forge", "tamper", "unsigned", "stale"].indexOf(how)}`));
      expect(error, how).toBeInstanceOf(WechatpayGatewayError);
      expect((error as WechatpayGatewayError).reason, how).toBe("signature");
    }
    const strangerKeyed = providerWith({ platformPublicKey: spki(stranger.publicKey) });
    expect(await rejection(strangerKeyed.queryOrder("W20261202000001"))).toMatchObject({ reason: "signature" });
    const otherId = providerWith({ platformPublicKeyId: "PUB_KEY_ID_0000" });
    expect(await rejection(otherId.queryOrder("W20261202000001"))).toMatchObject({ reason: "signature" });
  });

  it("queries: unpaid or unknown → null, paid → paid, refunded trade → refunded (never paid), closed → closed", async () => {
    await intent("W20261202000003", 1990);
    expect(await provider.queryOrder("W20261202000003")).toBeNull();
    const query = gateway.requests.at(-1)!;
    expect(query).toMatchObject({
      method: "GET",
      path: `/v3/pay/transactions/out-trade-no/W20261202000003?mchid=${MCH_ID}`,
      verified: true,
      body: "",
    });
    expect(await provider.queryOrder("W20261202999999")).toBeNull();

    const trade = gateway.pay("W20261202000003", new Date("2026-12-02T12:05:00Z"));
    const paid = {
      provider: "wechatpay",
      kind: "paid",
      appId: APP_ID,
      outTradeNo: "W20261202000003",
      tradeNo: trade.transactionId,
      amountFen: 1990,
      occurredAt: new Date("2026-12-02T12:05:00Z"),
      notifyId: `query-${trade.transactionId}-paid`,
    };
    expect(await provider.queryOrder("W20261202000003")).toEqual(paid);
    trade.state = "REFUND";
    // Refunded at WeChat Pay: not a payment to deliver.
    expect(await provider.queryOrder("W20261202000003")).toMatchObject({
      kind: "refunded",
      outTradeNo: "W20261202000003",
      notifyId: "query-W20261202000003-refund",
    });

    await intent("W20261202000004", 100);
    gateway.trades.get("W20261202000004")!.state = "CLOSED";
    expect(await provider.queryOrder("W20261202000004")).toMatchObject({ kind: "closed", amountFen: 100 });
  });

  it("closes an unpaid trade (204), ignores closing a closed or unknown one, refuses closing a paid one", async () => {
    await intent("W20261202000005", 300);
    await provider.closeOrder("W20261202000005");
    const close = gateway.requests.at(-1)!;
    expect(close).toMatchObject({
      method: "POST",
      path: "/v3/pay/transactions/out-trade-no/W20261202000005/close",
      verified: true,
    });
    expect(JSON.parse(close.body)).toEqual({ mchid: MCH_ID });
    expect(gateway.trades.get("W20261202000005")?.state).toBe("CLOSED");
    expect(await provider.queryOrder("W20261202000005")).toMatchObject({ kind: "closed" });

    gateway.failNext(400, "ORDER_CLOSED", "订单已关闭");
    await provider.closeOrder("W20261202000005");
    await provider.closeOrder("W20261202888888");
    // An unsigned "already closed" is not believed.
    gateway.failNext(400, "ORDER_CLOSED");
    gateway.misbehaveNext("unsigned");
    expect(await rejection(provider.closeOrder("W20261202000005"))).toBeInstanceOf(WechatpayGatewayError);

    const paid = await rejection(provider.closeOrder("W20261202000003"));
    expect(paid).toBeInstanceOf(PaymentOperationError);
    expect(paid).toMatchObject({ code: "trade-paid" });
  });

  it("refunds (accepted while processing) and parses the refund notification", async () => {
    await intent("W20261202000006", 1990);
    gateway.pay("W20261202000006");
    expect(
      await provider.refund({
        outTradeNo: "W20261202000006",
        refundNo: "R20261202000006",
        refundFen: 990,
        totalFen: 1990,
      }),
    ).toEqual({ accepted: true });
    const request = gateway.requests.at(-1)!;
    expect(request).toMatchObject({ method: "POST", path: "/v3/refund/domestic/refunds", verified: true });
    expect(JSON.parse(request.body)).toEqual({
      out_trade_no: "W20261202000006",
      out_refund_no: "R20261202000006",
      notify_url: NOTIFY_URL,
      amount: { refund: 990, total: 1990, currency: "CNY" },
    });
    expect(gateway.trades.get("W20261202000006")?.refunds.get("R20261202000006")?.refundFen).toBe(990);

    const notification = gateway.refundNotification(
      "W20261202000006",
      "R20261202000006",
      new Date("2026-12-02T12:30:00Z"),
    );
    expect(
      provider.parseNotification(notification.headers, notification.body, new Date("2026-12-02T12:31:00Z")),
    ).toEqual({
      provider: "wechatpay",
      kind: "refunded",
      appId: APP_ID,
      outTradeNo: "W20261202000006",
      tradeNo: gateway.trades.get("W20261202000006")!.transactionId,
      amountFen: 1990,
      refundFen: 990,
      refundNo: "R20261202000006",
      occurredAt: new Date("2026-12-02T12:30:00Z"),
      notifyId: expect.any(String),
    });

    // More than what is left: refused by WeChat Pay, so not accepted (as with Alipay).
    expect(
      await provider.refund({
        outTradeNo: "W20261202000006",
        refundNo: "R20261202000007",
        refundFen: 1500,
        totalFen: 1990,
      }),
    ).toEqual({ accepted: false });
    // A trade WeChat Pay does not know.
    expect(
      await rejection(provider.refund({ outTradeNo: "W20261202777777", refundNo: "R1", refundFen: 1, totalFen: 1 })),
    ).toMatchObject({ code: "unknown-trade" });
    // Refused before any request: more than the total.
    expect(
      await rejection(provider.refund({ outTradeNo: "W20261202000006", refundNo: "R2", refundFen: 3, totalFen: 2 })),
    ).toMatchObject({ code: "invalid-request" });
  });

  it("maps WeChat Pay error codes to PaymentOperationError, and leaves the others as gateway errors", async () => {
    const cases: [number, string, string][] = [
      [400, "ORDERPAID", "trade-paid"],
      [400, "ORDER_CLOSED", "trade-closed"],
      [400, "PARAM_ERROR", "invalid-request"],
      [400, "INVALID_REQUEST", "invalid-request"],
      [400, "APPID_MCHID_NOT_MATCH", "invalid-request"],
      [403, "OUT_TRADE_NO_USED", "conflict"],
      [404, "ORDER_NOT_EXIST", "unknown-trade"],
    ];
    for (const [status, code, expected] of cases) {
      gateway.failNext(status, code, "说明");
      const error = await rejection(intent("W20261202000020"));
      expect(error, code).toBeInstanceOf(PaymentOperationError);
      expect((error as PaymentOperationError).code, code).toBe(expected);
      expect(error.message).toContain(code);
    }
    // The real thing: paying, then ordering the same out_trade_no again.
    gateway.pay("W20261202000006");
    expect(await rejection(intent("W20261202000006"))).toMatchObject({ code: "trade-paid" });
    expect(await rejection(intent("W20261202000005", 300))).toMatchObject({ code: "trade-closed" });
    expect(await rejection(intent("W20261202000001", 1))).toMatchObject({ code: "conflict" });

    for (const [status, code] of [
      [500, "SYSTEM_ERROR"],
      [429, "FREQUENCY_LIMITED"],
      [403, "NOAUTH"],
    ] as const) {
      gateway.failNext(status, code);
      const error = await rejection(intent("W20261202000021"));
      expect(error, code).toBeInstanceOf(WechatpayGatewayError);
      expect(error, code).toMatchObject({ reason: "refused", status, code });
    }
    gateway.failNext(500, "SYSTEM_ERROR");
    expect(await rejection(provider.queryOrder("W20261202000001"))).toBeInstanceOf(WechatpayGatewayError);
    expect(
      await rejection(
        provider.createIntent({
          outTradeNo: "W20261202000022",
          amountFen: 0,
          subject: "x",
          expiresAt: new Date(),
          notifyUrl: NOTIFY_URL,
        }),
      ),
    ).toMatchObject({ code: "invalid-request" });
  });

  it("a request signed with the wrong merchant key is refused by the gateway (401 SIGN_ERROR)", async () => {
    const wrongKey = providerWith({ privateKey: pem(stranger.privateKey) });
    const error = await rejection(wrongKey.queryOrder("W20261202000001"));
    expect(error).toBeInstanceOf(WechatpayGatewayError);
    expect(error).toMatchObject({ reason: "refused", status: 401, code: "SIGN_ERROR" });
    expect(gateway.requests.at(-1)?.verified).toBe(false);
    const wrongSerial = providerWith({ mchSerial: "0000000000000000000000000000000000000000" });
    expect(
      await rejection(
        wrongSerial.createIntent({
          outTradeNo: "W20261202000030",
          amountFen: 1,
          subject: "x",
          expiresAt: new Date(Date.now() + 60_000),
          notifyUrl: NOTIFY_URL,
        }),
      ),
    ).toMatchObject({ status: 401, code: "SIGN_ERROR" });
    expect(gateway.trades.has("W20261202000030")).toBe(false);
  });

  it("gives up on a gateway that does not answer", async () => {
    const impatient = providerWith({ timeoutMs: 200 });
    gateway.misbehaveNext("hang");
    const started = Date.now();
    const error = await rejection(impatient.queryOrder("W20261202000001"));
    expect(error).toBeInstanceOf(WechatpayGatewayError);
    expect(error).toMatchObject({ reason: "timeout" });
    expect(Date.now() - started).toBeLessThan(1_500);
    // And an unreachable one fails as a network error.
    const nowhere = providerWith({ gateway: "http://127.0.0.1:1" });
    expect(await rejection(nowhere.queryOrder("W20261202000001"))).toMatchObject({ reason: "network" });
  });

  it("refuses an APIv3 key that is not 32 bytes", () => {
    expect(() => providerWith({ apiV3Key: "short" })).toThrow(/32 bytes/);
  });
});
