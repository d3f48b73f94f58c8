import { generateKeyPairSync } from "node:crypto";

import fc from "fast-check";
import { describe, expect, it } from "vitest";

import {
  type AlipayNotificationFields,
  alipayAnswer,
  buildAlipayNotificationBody,
  formatChinaTime,
  parseChinaTime,
  verifyAlipayNotification,
} from "../../server/providers/payments/alipay-notification.js";
import {
  alipayCanonicalString,
  formatYuan,
  parseYuanToFen,
  signAlipayParams,
  verifyAlipayParams,
} from "../../server/providers/payments/alipay-signature.js";
import { PaymentNotificationError } from "../../server/providers/payments/types.js";

const alipay = generateKeyPairSync("rsa", { modulusLength: 2048 });
const forger = generateKeyPairSync("rsa", { modulusLength: 2048 });
const APP_ID = "2021000000000001";
const expectation = { publicKey: alipay.publicKey, appId: APP_ID };

const paidFields = (overrides: Partial<AlipayNotificationFields> = {}): AlipayNotificationFields => ({
  notify_time: "2024-05-01 10:30:05",
  notify_id: "ac05099524730693a8b330c5ecf72da9786",
  app_id: APP_ID,
  trade_no: "2024050122001400000000000001",
  out_trade_no: "D20240501000001",
  trade_status: "TRADE_SUCCESS",
  total_amount: "19.90",
  gmt_payment: "2024-05-01 10:30:00",
  buyer_id: "2088102122524333",
  subject: "敦煌飞天 #12",
  ...overrides,
});

/** Changes a field of a signed body without signing again. */
function tamper(body: string, key: string, value: string | null): string {
  const params = new URLSearchParams(body);
  if (value === null) params.delete(key);
  else params.set(key, value);
  return params.toString();
}

function refusal(run: () => unknown): PaymentNotificationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PaymentNotificationError);
    return error as PaymentNotificationError;
  }
  throw new Error("expected a refusal");
}

describe("Alipay RSA2 parameter signature", () => {
  it("builds the canonical string of a known map: ASCII key order, raw values, no sign/sign_type/empties", () => {
    const canonical = alipayCanonicalString({
      total_amount: "19.90",
      sign: "c2lnbg==",
      outer: "x",
      sign_type: "RSA2",
      out_trade_no: "D1",
      subject: "藏品 A&B=1",
      Zeta: "upper",
      out_biz_no: "",
      app_id: "2021000000000001",
      buyer_id: undefined,
      gmt_refund: null,
    });
    expect(canonical).toBe(
      "Zeta=upper&app_id=2021000000000001&out_trade_no=D1&outer=x&subject=藏品 A&B=1&total_amount=19.90",
    );
  });

  it("gives an empty string for a map with only sign, sign_type and empty values", () => {
    expect(alipayCanonicalString({ sign: "x", sign_type: "RSA2", a: "" })).toBe("");
  });

  it("verifies a signature it made with the matching public key", () => {
    const params = { app_id: APP_ID, total_amount: "0.01", subject: "测试" };
    const signature = signAlipayParams(params, alipay.privateKey);
    expect(signature).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(verifyAlipayParams(params, signature, alipay.publicKey)).toBe(true);
    // sign and sign_type are outside the signed string
    expect(verifyAlipayParams({ ...params, sign: signature, sign_type: "RSA2" }, signature, alipay.publicKey)).toBe(
      true,
    );
  });

  it("does not verify a changed value, another key's signature, or garbage", () => {
    const params = { app_id: APP_ID, total_amount: "0.01" };
    const signature = signAlipayParams(params, alipay.privateKey);
    expect(verifyAlipayParams({ ...params, total_amount: "0.02" }, signature, alipay.publicKey)).toBe(false);
    expect(verifyAlipayParams(params, signAlipayParams(params, forger.privateKey), alipay.publicKey)).toBe(false);
    expect(verifyAlipayParams(params, "not base64!", alipay.publicKey)).toBe(false);
    expect(verifyAlipayParams(params, "", alipay.publicKey)).toBe(false);
  });

  it("accepts keys as PEM text and as the bare base64 Alipay's console shows", () => {
    const params = { a: "1" };
    const publicPem = alipay.publicKey.export({ type: "spki", format: "pem" }).toString();
    const privateDer = alipay.privateKey.export({ type: "pkcs8", format: "der" }).toString("base64");
    const bare = alipay.publicKey.export({ type: "spki", format: "der" }).toString("base64");
    const signature = signAlipayParams(params, privateDer);
    expect(verifyAlipayParams(params, signature, publicPem)).toBe(true);
    expect(verifyAlipayParams(params, signature, bare)).toBe(true);
  });
});

describe("yuan and fen", () => {
  it("formats fen as yuan with two decimals", () => {
    expect(formatYuan(1990)).toBe("19.90");
    expect(formatYuan(1)).toBe("0.01");
    expect(formatYuan(29)).toBe("0.29");
    expect(formatYuan(0)).toBe("0.00");
    expect(formatYuan(100)).toBe("1.00");
    expect(formatYuan(123456789)).toBe("1234567.89");
    expect(formatYuan(-150)).toBe("-1.50");
  });

  it("refuses to format anything but a safe integer of fen", () => {
    for (const fen of [19.9, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) expect(() => formatYuan(fen)).toThrow();
  });

  it("parses yuan into exact fen without floating point", () => {
    expect(parseYuanToFen("0.29")).toBe(29);
    expect(parseYuanToFen("19.9")).toBe(1990);
    expect(parseYuanToFen("19.90")).toBe(1990);
    expect(parseYuanToFen("0.07")).toBe(7);
    expect(parseYuanToFen("1.1")).toBe(110);
    expect(parseYuanToFen("100")).toBe(10000);
    expect(parseYuanToFen("0")).toBe(0);
    expect(parseYuanToFen("90071992547409.91")).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("refuses signs, exponents, spaces, more than two decimals and other non-amounts", () => {
    for (const text of [
      "1e3",
      "-1",
      "+1",
      "1.",
      ".5",
      "1.234",
      " 1",
      "1 ",
      "1,00",
      "",
      "NaN",
      "Infinity",
      "0x10",
      "１",
      "90071992547409.92",
    ])
      expect(() => parseYuanToFen(text), text).toThrow(RangeError);
  });

  it("round-trips every amount through formatYuan and parseYuanToFen", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (fen) => {
        expect(parseYuanToFen(formatYuan(fen))).toBe(fen);
      }),
    );
  });
});

describe("China time", () => {
  it("reads Alipay's times as UTC+8 and writes them back", () => {
    const date = parseChinaTime("2024-05-01 00:30:00");
    expect(date.toISOString()).toBe("2024-04-30T16:30:00.000Z");
    expect(formatChinaTime(date)).toBe("2024-05-01 00:30:00");
    expect(parseChinaTime("2024-05-01 00:30:00.250").toISOString()).toBe("2024-04-30T16:30:00.250Z");
    expect(formatChinaTime(new Date("2024-04-30T16:30:00.250Z"), { millis: true })).toBe("2024-05-01 00:30:00.250");
  });

  it("refuses times that are not calendar times in Alipay's format", () => {
    for (const text of ["2024-02-30 00:00:00", "2024-05-01T00:00:00", "2024-05-01 24:00:00", "2024-5-1 00:00:00"])
      expect(() => parseChinaTime(text), text).toThrow(RangeError);
  });
});

describe("Alipay asynchronous notification", () => {
  it("verifies a signed payment notification and reads it as paid", () => {
    const body = buildAlipayNotificationBody(paidFields(), alipay.privateKey);
    expect(verifyAlipayNotification(body, expectation)).toEqual({
      provider: "alipay",
      kind: "paid",
      appId: APP_ID,
      outTradeNo: "D20240501000001",
      tradeNo: "2024050122001400000000000001",
      amountFen: 1990,
      occurredAt: new Date("2024-05-01T02:30:00.000Z"),
      notifyId: "ac05099524730693a8b330c5ecf72da9786",
    });
  });

  it("encodes the body as a utf-8 form with sign_type RSA2 and the defaults", () => {
    const body = buildAlipayNotificationBody(paidFields({ subject: "飞天 A&B+C=1" }), alipay.privateKey);
    const params = new URLSearchParams(body);
    expect(params.get("subject")).toBe("飞天 A&B+C=1");
    expect(params.get("sign_type")).toBe("RSA2");
    expect(params.get("charset")).toBe("utf-8");
    expect(params.get("notify_type")).toBe("trade_status_sync");
    expect(verifyAlipayNotification(body, expectation).kind).toBe("paid");
  });

  it("reads TRADE_FINISHED as paid", () => {
    const body = buildAlipayNotificationBody(paidFields({ trade_status: "TRADE_FINISHED" }), alipay.privateKey);
    expect(verifyAlipayNotification(body, expectation).kind).toBe("paid");
  });

  it("refuses a tampered amount as a signature failure", () => {
    const body = tamper(buildAlipayNotificationBody(paidFields(), alipay.privateKey), "total_amount", "0.01");
    expect(refusal(() => verifyAlipayNotification(body, expectation)).reason).toBe("signature");
  });

  it("refuses a notification signed with another key", () => {
    const body = buildAlipayNotificationBody(paidFields(), forger.privateKey);
    expect(refusal(() => verifyAlipayNotification(body, expectation)).reason).toBe("signature");
  });

  it("refuses a notification without sign", () => {
    const body = tamper(buildAlipayNotificationBody(paidFields(), alipay.privateKey), "sign", null);
    expect(refusal(() => verifyAlipayNotification(body, expectation)).reason).toBe("signature");
  });

  it("refuses a sign_type other than RSA2", () => {
    const body = tamper(buildAlipayNotificationBody(paidFields(), alipay.privateKey), "sign_type", "RSA");
    expect(refusal(() => verifyAlipayNotification(body, expectation)).reason).toBe("signature");
  });

  it("refuses a correctly signed notification for another app id", () => {
    const body = buildAlipayNotificationBody(paidFields({ app_id: "2021000000009999" }), alipay.privateKey);
    expect(refusal(() => verifyAlipayNotification(body, expectation)).reason).toBe("app-id");
  });

  it("refuses a field given twice, an empty body, a non-final status and a malformed amount as format", () => {
    const body = buildAlipayNotificationBody(paidFields(), alipay.privateKey);
    expect(refusal(() => verifyAlipayNotification(`${body}&total_amount=0.01`, expectation)).reason).toBe("format");
    expect(refusal(() => verifyAlipayNotification("", expectation)).reason).toBe("format");
    const waiting = buildAlipayNotificationBody(paidFields({ trade_status: "WAIT_BUYER_PAY" }), alipay.privateKey);
    expect(refusal(() => verifyAlipayNotification(waiting, expectation)).reason).toBe("format");
    const badAmount = buildAlipayNotificationBody(paidFields({ total_amount: "1e3" }), alipay.privateKey);
    expect(refusal(() => verifyAlipayNotification(badAmount, expectation)).reason).toBe("format");
  });

  it("reads TRADE_CLOSED without refund as closed", () => {
    const body = buildAlipayNotificationBody(
      paidFields({ trade_status: "TRADE_CLOSED", gmt_payment: undefined, gmt_close: "2024-05-01 10:45:00" }),
      alipay.privateKey,
    );
    expect(verifyAlipayNotification(body, expectation)).toMatchObject({
      kind: "closed",
      occurredAt: new Date("2024-05-01T02:45:00.000Z"),
    });
  });

  it("reads a full refund (TRADE_CLOSED with refund_fee) as refunded", () => {
    const body = buildAlipayNotificationBody(
      paidFields({
        trade_status: "TRADE_CLOSED",
        refund_fee: "19.90",
        gmt_refund: "2024-05-02 09:00:00.123",
        out_biz_no: "R1",
      }),
      alipay.privateKey,
    );
    const notification = verifyAlipayNotification(body, expectation);
    expect(notification).toMatchObject({ kind: "refunded", amountFen: 1990, refundFen: 1990, refundNo: "R1" });
    expect(notification.occurredAt.toISOString()).toBe("2024-05-02T01:00:00.123Z");
  });

  it("reads a partial refund (TRADE_SUCCESS with refund_fee and gmt_refund) as refunded", () => {
    const body = buildAlipayNotificationBody(
      paidFields({ refund_fee: "5.00", gmt_refund: "2024-05-02 09:00:00.000", out_biz_no: "R2" }),
      alipay.privateKey,
    );
    expect(verifyAlipayNotification(body, expectation)).toMatchObject({
      kind: "refunded",
      refundFen: 500,
      refundNo: "R2",
    });
  });

  it("refuses a refund_fee above the total", () => {
    const body = buildAlipayNotificationBody(
      paidFields({ trade_status: "TRADE_CLOSED", refund_fee: "20.00", gmt_refund: "2024-05-02 09:00:00" }),
      alipay.privateKey,
    );
    expect(refusal(() => verifyAlipayNotification(body, expectation)).reason).toBe("format");
  });

  it("answers exactly `success` when accepted and something else when refused", () => {
    expect(alipayAnswer(true)).toEqual({ status: 200, contentType: "text/plain; charset=utf-8", body: "success" });
    expect(alipayAnswer(false).body).not.toBe("success");
  });
});
