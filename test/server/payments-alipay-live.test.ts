import { generateKeyPairSync } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createAlipayPaymentProvider } from "../../server/providers/payments/alipay.js";
import { buildAlipayNotificationBody } from "../../server/providers/payments/alipay-notification.js";
import type { PaymentProvider } from "../../server/providers/payments/types.js";
import { type AlipayGatewayStandIn, startAlipayGateway } from "./stand-ins/alipay-gateway.js";

const merchant = generateKeyPairSync("rsa", { modulusLength: 2048 });
const alipay = generateKeyPairSync("rsa", { modulusLength: 2048 });
const pemOf = (key: typeof merchant.publicKey | typeof merchant.privateKey, type: "spki" | "pkcs8") =>
  key.export({ type, format: "pem" } as never).toString();

let gateway: AlipayGatewayStandIn;
let provider: PaymentProvider;

beforeAll(async () => {
  gateway = await startAlipayGateway({
    appId: "2021000000000001",
    merchantPublicKey: merchant.publicKey,
    alipayPrivateKey: alipay.privateKey,
  });
  provider = createAlipayPaymentProvider({
    appId: "2021000000000001",
    privateKey: pemOf(merchant.privateKey, "pkcs8"),
    alipayPublicKey: pemOf(alipay.publicKey, "spki"),
    gateway: gateway.url,
  });
});
afterAll(() => gateway.close());

const intent = (outTradeNo: string, amountFen = 1990) =>
  provider.createIntent({
    outTradeNo,
    amountFen,
    subject: "Collectible",
    expiresAt: new Date(Date.now() + 10 * 60_000),
    notifyUrl: "https://example.test/pay/alipay/notify",
  });

const notification = (fields: Record<string, string>, key = alipay.privateKey) =>
  buildAlipayNotificationBody(
    {
      notify_time: "2026-12-02 20:00:05",
      notify_id: "n1",
      app_id: "2021000000000001",
      trade_no: "2026120222001000000000000001",
      out_trade_no: "A1",
      trade_status: "TRADE_SUCCESS",
      total_amount: "19.90",
      gmt_payment: "2026-12-02 20:00:00",
      ...fields,
    },
    key,
  );

describe("live Alipay provider against a stand-in gateway", () => {
  it("precreates a QR code with a signed request, yuan amount and notify_url", async () => {
    const created = await intent("A1", 1990);
    expect(created.qrCode).toMatch(/^https:\/\/qr\.alipay\.com\//);
    const request = gateway.requests.at(-1)!;
    expect(request.method).toBe("alipay.trade.precreate");
    expect(request.params.notify_url).toBe("https://example.test/pay/alipay/notify");
    const biz = JSON.parse(request.params.biz_content!) as Record<string, string>;
    expect(biz.total_amount).toBe("19.90");
    expect(biz.timeout_express).toMatch(/^\d+m$/);
    expect(biz.time_expire).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(gateway.trades.get("A1")?.amountFen).toBe(1990);
  });

  it("refuses a response whose signature is forged", async () => {
    gateway.forgeNextResponse();
    await expect(intent("A-forged")).rejects.toThrow();
  });

  it("accepts a signed notification and refuses forged, altered or other-app ones", () => {
    const body = notification({});
    const parsed = provider.parseNotification({}, body, new Date());
    expect(parsed).toMatchObject({ kind: "paid", outTradeNo: "A1", amountFen: 1990 });
    expect(() => provider.parseNotification({}, notification({}, merchant.privateKey), new Date())).toThrow(
      expect.objectContaining({ reason: "signature" }),
    );
    expect(() => provider.parseNotification({}, body.replace("19.90", "0.01"), new Date())).toThrow(
      expect.objectContaining({ reason: "signature" }),
    );
    expect(() => provider.parseNotification({}, notification({ app_id: "2021000000000999" }), new Date())).toThrow(
      expect.objectContaining({ reason: "app-id" }),
    );
    expect(provider.answer(true).body).toBe("success");
    expect(provider.answer(false).body).toBe("fail");
  });

  it("queries (unpaid → null, paid → a paid notification), refunds and closes", async () => {
    expect(await provider.queryOrder("A1")).toBeNull();
    expect(await provider.queryOrder("unknown")).toBeNull();
    gateway.trades.get("A1")!.status = "TRADE_SUCCESS";
    expect(await provider.queryOrder("A1")).toMatchObject({ kind: "paid", amountFen: 1990, outTradeNo: "A1" });
    expect(await provider.refund({ outTradeNo: "A1", refundNo: "R1", refundFen: 990, totalFen: 1990 })).toEqual({
      accepted: true,
    });
    expect(gateway.trades.get("A1")?.refunds.get("R1")).toBe(990);
    expect(await provider.refund({ outTradeNo: "A1", refundNo: "R2", refundFen: 5000, totalFen: 1990 })).toEqual({
      accepted: false,
    });

    await intent("A2", 5);
    expect(JSON.parse(gateway.requests.at(-1)!.params.biz_content!).total_amount).toBe("0.05");
    await provider.closeOrder("A2");
    expect(gateway.trades.get("A2")?.status).toBe("TRADE_CLOSED");
    expect(await provider.queryOrder("A2")).toMatchObject({ kind: "closed" });
    await provider.closeOrder("never-scanned");
  });
});
