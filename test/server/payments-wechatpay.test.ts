import { generateKeyPairSync } from "node:crypto";

import { describe, expect, it } from "vitest";

import { PaymentNotificationError } from "../../server/providers/payments/types.js";
import {
  type WechatpayEnvelope,
  type WechatpayRefund,
  type WechatpayTransaction,
  buildWechatpayNotification,
  decryptWechatpayResource,
  encryptWechatpayResource,
  parseWechatpayNotification,
  signWechatpayMessage,
  wechatpayAnswer,
  wechatpayMessage,
} from "../../server/providers/payments/wechatpay-crypto.js";

const platform = generateKeyPairSync("rsa", { modulusLength: 2048 });
const other = generateKeyPairSync("rsa", { modulusLength: 2048 });
const SERIAL = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
const API_V3_KEY = "0123456789abcdefghijABCDEFGHIJ01";
const APP_ID = "wx8888888888888888";
const MCH_ID = "1230000109";
const NOW = new Date("2024-05-01T02:30:10Z");
const platformKeys = new Map([[SERIAL, platform.publicKey]]);

const transaction = (overrides: Partial<WechatpayTransaction> = {}): WechatpayTransaction => ({
  appid: APP_ID,
  mchid: MCH_ID,
  out_trade_no: "D20240501000001",
  transaction_id: "4200000000202405011234567890",
  trade_type: "NATIVE",
  trade_state: "SUCCESS",
  trade_state_desc: "支付成功",
  success_time: "2024-05-01T10:30:00+08:00",
  payer: { openid: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o" },
  amount: { total: 1990, payer_total: 1990, currency: "CNY", payer_currency: "CNY" },
  ...overrides,
});

const notify = (resource: WechatpayTransaction | WechatpayRefund = transaction(), now = NOW) =>
  buildWechatpayNotification({
    resource,
    apiV3Key: API_V3_KEY,
    platformPrivateKey: platform.privateKey,
    serial: SERIAL,
    now,
    id: "EV-2018022511223320873",
  });

const parse = (headers: Record<string, string | undefined>, rawBody: string, now = NOW) =>
  parseWechatpayNotification({
    headers,
    rawBody,
    now,
    platformKeys,
    apiV3Key: API_V3_KEY,
    appId: APP_ID,
    mchId: MCH_ID,
  });

function refusal(run: () => unknown): PaymentNotificationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(PaymentNotificationError);
    return error as PaymentNotificationError;
  }
  throw new Error("expected a refusal");
}

describe("WeChat Pay API v3 notification", () => {
  it("signs timestamp, nonce and body each followed by a newline", () => {
    expect(wechatpayMessage("1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", '{"a":1}')).toBe(
      '1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n{"a":1}\n',
    );
  });

  it("verifies, decrypts and reads a valid payment notification", () => {
    const { headers, body } = notify();
    expect(parse(headers, body)).toEqual({
      provider: "wechatpay",
      kind: "paid",
      appId: APP_ID,
      outTradeNo: "D20240501000001",
      tradeNo: "4200000000202405011234567890",
      amountFen: 1990,
      occurredAt: new Date("2024-05-01T02:30:00Z"),
      notifyId: "EV-2018022511223320873",
    });
  });

  it("finds the headers whatever their case, as Node lowercases them", () => {
    const { headers, body } = notify();
    const lower = Object.fromEntries(Object.entries(headers).map(([key, value]) => [key.toLowerCase(), value]));
    expect(parse(lower, body).kind).toBe("paid");
  });

  it("encrypts with AES-256-GCM, the 16-byte tag after the ciphertext, and decrypts back", () => {
    const resource = encryptWechatpayResource("明文 plaintext", API_V3_KEY, "transaction", "abcdefABCDEF");
    expect(resource).toMatchObject({
      algorithm: "AEAD_AES_256_GCM",
      nonce: "abcdefABCDEF",
      associated_data: "transaction",
    });
    expect(Buffer.from(resource.ciphertext, "base64").length).toBe(Buffer.byteLength("明文 plaintext") + 16);
    expect(decryptWechatpayResource(resource, API_V3_KEY)).toBe("明文 plaintext");
  });

  it("refuses a tampered ciphertext or associated data as failing authentication", () => {
    const resource = encryptWechatpayResource(JSON.stringify(transaction()), API_V3_KEY);
    const bytes = Buffer.from(resource.ciphertext, "base64");
    bytes[3] = (bytes[3] ?? 0) ^ 0x01;
    const flipped = { ...resource, ciphertext: bytes.toString("base64") };
    expect(refusal(() => decryptWechatpayResource(flipped, API_V3_KEY)).reason).toBe("signature");
    const relabelled = { ...resource, associated_data: "refund" };
    expect(refusal(() => decryptWechatpayResource(relabelled, API_V3_KEY)).reason).toBe("signature");
  });

  it("refuses a body whose ciphertext was changed after signing", () => {
    const { headers, body } = notify();
    const envelope = JSON.parse(body) as WechatpayEnvelope;
    const forged = encryptWechatpayResource(
      JSON.stringify(transaction({ amount: { total: 1 } })),
      API_V3_KEY,
      "transaction",
    );
    const tampered = JSON.stringify({ ...envelope, resource: forged });
    expect(refusal(() => parse(headers, tampered)).reason).toBe("signature");
  });

  it("refuses a resource encrypted with another APIv3 key", () => {
    const resource = encryptWechatpayResource("{}", "ZYXWVUTSRQPONMLKJIHGFEDCBA987654");
    expect(refusal(() => decryptWechatpayResource(resource, API_V3_KEY)).reason).toBe("signature");
  });

  it("refuses a notification signed with another key or under an unknown serial", () => {
    const forged = buildWechatpayNotification({
      resource: transaction(),
      apiV3Key: API_V3_KEY,
      platformPrivateKey: other.privateKey,
      serial: SERIAL,
      now: NOW,
    });
    expect(refusal(() => parse(forged.headers, forged.body)).reason).toBe("signature");
    const { headers, body } = notify();
    expect(refusal(() => parse({ ...headers, "Wechatpay-Serial": "0000" }, body)).reason).toBe("signature");
    expect(refusal(() => parse({ ...headers, "Wechatpay-Signature": undefined }, body)).reason).toBe("signature");
  });

  it("refuses timestamps more than 5 minutes away and accepts one within", () => {
    const { headers, body } = notify();
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    expect(refusal(() => parse(headers, body, at(5 * 60_000 + 1_000))).reason).toBe("timestamp");
    expect(refusal(() => parse(headers, body, at(-(5 * 60_000 + 1_000)))).reason).toBe("timestamp");
    expect(parse(headers, body, at(4 * 60_000)).kind).toBe("paid");
    expect(refusal(() => parse({ ...headers, "Wechatpay-Timestamp": "soon" }, body)).reason).toBe("timestamp");
  });

  it("refuses a transaction for another merchant id or app id", () => {
    const mch = notify(transaction({ mchid: "1900000000" }));
    expect(refusal(() => parse(mch.headers, mch.body)).reason).toBe("app-id");
    const app = notify(transaction({ appid: "wx0000000000000000" }));
    expect(refusal(() => parse(app.headers, app.body)).reason).toBe("app-id");
  });

  it("reads CLOSED as closed and refuses non-final states", () => {
    const closed = notify(transaction({ trade_state: "CLOSED", success_time: undefined }));
    expect(parse(closed.headers, closed.body)).toMatchObject({ kind: "closed", occurredAt: NOW });
    const waiting = notify(transaction({ trade_state: "NOTPAY", success_time: undefined }));
    expect(refusal(() => parse(waiting.headers, waiting.body)).reason).toBe("format");
  });

  it("refuses a signed body that is not a notification as format", () => {
    const timestamp = String(Math.floor(NOW.getTime() / 1000));
    const body = "not json";
    const headers = {
      "Wechatpay-Timestamp": timestamp,
      "Wechatpay-Nonce": "n",
      "Wechatpay-Signature": signWechatpayMessage(timestamp, "n", body, platform.privateKey),
      "Wechatpay-Serial": SERIAL,
    };
    expect(refusal(() => parse(headers, body)).reason).toBe("format");
  });

  it("reads a refund notification as refunded with the refund's amount and number", () => {
    const { headers, body } = notify({
      mchid: MCH_ID,
      out_trade_no: "D20240501000001",
      transaction_id: "4200000000202405011234567890",
      out_refund_no: "R20240502000001",
      refund_id: "50000000382019052709732678859",
      refund_status: "SUCCESS",
      success_time: "2024-05-02T09:00:00+08:00",
      amount: { total: 1990, refund: 500, payer_total: 1990, payer_refund: 500 },
    });
    expect(parse(headers, body)).toMatchObject({
      kind: "refunded",
      amountFen: 1990,
      refundFen: 500,
      refundNo: "R20240502000001",
      occurredAt: new Date("2024-05-02T01:00:00Z"),
    });
  });

  it("refuses an APIv3 key that is not 32 bytes", () => {
    expect(() => encryptWechatpayResource("{}", "short")).toThrow(TypeError);
  });

  it("answers SUCCESS when accepted and FAIL with an error status when refused", () => {
    expect(wechatpayAnswer(true)).toEqual({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ code: "SUCCESS", message: "成功" }),
    });
    const refused = wechatpayAnswer(false, "签名错误");
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(JSON.parse(refused.body)).toEqual({ code: "FAIL", message: "签名错误" });
  });
});
