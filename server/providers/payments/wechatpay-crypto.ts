import {
  type KeyObject,
  X509Certificate,
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  randomBytes,
  randomUUID,
  sign,
  verify,
} from "node:crypto";

import { z } from "zod";

import { type NotificationAnswer, type PaymentNotification, PaymentNotificationError } from "./types.js";

/**
 * WeChat Pay API v3 notifications (回调通知): a JSON body signed by the
 * platform (RSA-SHA256 over `timestamp\nnonce\nbody\n`, headers
 * `Wechatpay-Timestamp`, `Wechatpay-Nonce`, `Wechatpay-Signature`,
 * `Wechatpay-Serial`), whose `resource` is AEAD_AES_256_GCM-encrypted with
 * the merchant's 32-byte APIv3 key.
 */

/** How far a notification's timestamp may be from our clock. */
export const WECHATPAY_MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** A key as a KeyObject or PEM text (a public key, or the platform certificate). */
export type WechatpayKey = KeyObject | string;

/** The platform public keys by serial number. */
export type WechatpayPlatformKeys = ReadonlyMap<string, WechatpayKey> | ((serial: string) => WechatpayKey | undefined);

/** The encrypted `resource` of a notification. */
export interface WechatpayResource {
  original_type?: string;
  algorithm: string;
  ciphertext: string;
  associated_data?: string;
  nonce: string;
}

/** The JSON body of a notification. */
export interface WechatpayEnvelope {
  id: string;
  create_time: string;
  resource_type: string;
  event_type: string;
  summary: string;
  resource: WechatpayResource;
}

/** A transaction as WeChat Pay describes it (the decrypted resource of a TRANSACTION.* notification). */
export interface WechatpayTransaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_state: string;
  trade_state_desc?: string;
  success_time?: string;
  amount: { total: number; payer_total?: number; currency?: string; payer_currency?: string };
  [other: string]: unknown;
}

/** A refund as WeChat Pay describes it (the decrypted resource of a REFUND.* notification). */
export interface WechatpayRefund {
  mchid: string;
  out_trade_no: string;
  transaction_id: string;
  out_refund_no: string;
  refund_id: string;
  refund_status: string;
  success_time?: string;
  amount: { total: number; refund: number; payer_total?: number; payer_refund?: number };
  [other: string]: unknown;
}

/** What a notification must be for. */
export interface WechatpayExpectation {
  appId: string;
  mchId: string;
}

const lookup = (headers: Record<string, string | undefined>, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
};

function publicKeyOf(key: WechatpayKey): KeyObject {
  if (typeof key !== "string") return key.type === "private" ? createPublicKey(key) : key;
  return key.includes("BEGIN CERTIFICATE") ? new X509Certificate(key).publicKey : createPublicKey(key);
}

function apiV3KeyBytes(apiV3Key: string | Buffer): Buffer {
  const bytes = typeof apiV3Key === "string" ? Buffer.from(apiV3Key, "utf8") : apiV3Key;
  if (bytes.length !== 32) throw new TypeError("The APIv3 key must be 32 bytes");
  return bytes;
}

/** The message WeChat Pay signs: `timestamp\nnonce\nbody\n`. */
export function wechatpayMessage(timestamp: string, nonce: string, body: string): string {
  return `${timestamp}\n${nonce}\n${body}\n`;
}

/** The base64 RSA-SHA256 signature of a notification, as the platform makes it. */
export function signWechatpayMessage(timestamp: string, nonce: string, body: string, privateKey: WechatpayKey): string {
  return sign("sha256", Buffer.from(wechatpayMessage(timestamp, nonce, body), "utf8"), privateKey).toString("base64");
}

/**
 * Checks a notification's headers: a timestamp within 5 minutes of `now`
 * (else `timestamp`), and a signature by the platform key of the given
 * serial (else `signature`). Header names are matched case-insensitively.
 */
export function verifyWechatpaySignature(
  headers: Record<string, string | undefined>,
  body: string,
  now: Date,
  platformKeys: WechatpayPlatformKeys,
): void {
  const timestamp = lookup(headers, "Wechatpay-Timestamp");
  const nonce = lookup(headers, "Wechatpay-Nonce");
  const signature = lookup(headers, "Wechatpay-Signature");
  const serial = lookup(headers, "Wechatpay-Serial");
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    throw new PaymentNotificationError("timestamp", "Missing or malformed Wechatpay-Timestamp");
  if (Math.abs(now.getTime() - Number(timestamp) * 1000) > WECHATPAY_MAX_CLOCK_SKEW_MS)
    throw new PaymentNotificationError("timestamp", "Wechatpay-Timestamp is more than 5 minutes away");
  if (!nonce || !signature || !serial)
    throw new PaymentNotificationError("signature", "Missing Wechatpay-Nonce, Wechatpay-Signature or Wechatpay-Serial");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature))
    throw new PaymentNotificationError("signature", "Wechatpay-Signature is not base64");
  const key = typeof platformKeys === "function" ? platformKeys(serial) : platformKeys.get(serial);
  if (!key) throw new PaymentNotificationError("signature", `Unknown platform key serial ${serial}`);
  let valid: boolean;
  try {
    valid = verify(
      "sha256",
      Buffer.from(wechatpayMessage(timestamp, nonce, body), "utf8"),
      publicKeyOf(key),
      Buffer.from(signature, "base64"),
    );
  } catch {
    valid = false;
  }
  if (!valid) throw new PaymentNotificationError("signature", "The signature does not verify with the platform key");
}

const NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const randomNonce = (length: number) =>
  Array.from(randomBytes(length), (byte) => NONCE_ALPHABET[byte % NONCE_ALPHABET.length]).join("");

/** Encrypts a resource as WeChat Pay does: AES-256-GCM, a 12-character nonce, the 16-byte tag after the ciphertext. */
export function encryptWechatpayResource(
  plaintext: string,
  apiV3Key: string | Buffer,
  associatedData = "transaction",
  nonce = randomNonce(12),
): WechatpayResource {
  if (Buffer.byteLength(nonce, "utf8") !== 12) throw new TypeError("The nonce must be 12 bytes");
  const cipher = createCipheriv("aes-256-gcm", apiV3KeyBytes(apiV3Key), Buffer.from(nonce, "utf8"));
  cipher.setAAD(Buffer.from(associatedData, "utf8"));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return {
    original_type: associatedData,
    algorithm: "AEAD_AES_256_GCM",
    ciphertext: ciphertext.toString("base64"),
    associated_data: associatedData,
    nonce,
  };
}

/**
 * Decrypts a notification's resource with the APIv3 key. A wrong key or a
 * tampered ciphertext, nonce or associated data fails authentication
 * (`signature`); an unknown algorithm or malformed fields are `format`.
 */
export function decryptWechatpayResource(resource: WechatpayResource, apiV3Key: string | Buffer): string {
  const key = apiV3KeyBytes(apiV3Key);
  if (resource.algorithm !== "AEAD_AES_256_GCM")
    throw new PaymentNotificationError("format", `Unsupported algorithm ${resource.algorithm}`);
  const nonce = Buffer.from(resource.nonce ?? "", "utf8");
  if (nonce.length !== 12) throw new PaymentNotificationError("format", "The resource nonce must be 12 bytes");
  if (typeof resource.ciphertext !== "string" || !/^[A-Za-z0-9+/]+={0,2}$/.test(resource.ciphertext))
    throw new PaymentNotificationError("format", "The ciphertext is not base64");
  const data = Buffer.from(resource.ciphertext, "base64");
  if (data.length <= 16) throw new PaymentNotificationError("format", "The ciphertext is too short");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAuthTag(data.subarray(data.length - 16));
    decipher.setAAD(Buffer.from(resource.associated_data ?? "", "utf8"));
    return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]).toString("utf8");
  } catch {
    throw new PaymentNotificationError("signature", "The resource does not decrypt (wrong APIv3 key or tampered)");
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time ("2024-05-01T08:30:00+08:00") as a Date; throws `format` when it is not one. */
export function parseWechatpayTime(text: string): Date {
  const date = RFC3339.test(text) ? new Date(text) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new PaymentNotificationError("format", `Not an RFC 3339 time: ${text}`);
  return date;
}

/** `date` as WeChat Pay writes times: RFC 3339 in China time, "2024-05-01T08:30:00+08:00". */
export function formatWechatpayTime(date: Date): string {
  const shifted = new Date(date.getTime() + 8 * 3600 * 1000);
  return `${shifted.toISOString().slice(0, 19)}+08:00`;
}

const fen = z.number().int().nonnegative();
const envelopeSchema = z.object({
  id: z.string().min(1),
  create_time: z.string(),
  resource_type: z.string().optional(),
  event_type: z.string().min(1),
  summary: z.string().optional(),
  resource: z.object({
    original_type: z.string().optional(),
    algorithm: z.string(),
    ciphertext: z.string(),
    associated_data: z.string().optional(),
    nonce: z.string(),
  }),
});
const transactionSchema = z.looseObject({
  appid: z.string(),
  mchid: z.string(),
  out_trade_no: z.string().min(1),
  transaction_id: z.string().optional(),
  trade_state: z.string(),
  success_time: z.string().optional(),
  amount: z.looseObject({ total: fen, payer_total: fen.optional(), currency: z.string().optional() }),
});
const refundSchema = z.looseObject({
  mchid: z.string(),
  out_trade_no: z.string().min(1),
  transaction_id: z.string().min(1),
  out_refund_no: z.string().min(1),
  refund_id: z.string().min(1),
  refund_status: z.string(),
  success_time: z.string().optional(),
  amount: z.looseObject({ total: fen, refund: fen, payer_total: fen.optional(), payer_refund: fen.optional() }),
});

function format(message: string): never {
  throw new PaymentNotificationError("format", message);
}

/**
 * Reads a decrypted resource (a transaction, or a refund) into a
 * notification, after checking it is for our merchant id (`mchid`) and, for
 * transactions, our app id (`appid`) (else `app-id`).
 *
 * Transactions: `trade_state` SUCCESS → "paid" (at `success_time`), CLOSED /
 * REVOKED → "closed", REFUND → "refunded"; other states are not final and
 * refused (`format`). Refunds: `refund_status` SUCCESS → "refunded" with the
 * refund's amount and `out_refund_no`; other statuses are refused. Refund
 * resources carry no `appid`, so `appId` is the expected one there.
 * `fallbackTime` (the notification's `create_time`) is used when the
 * resource gives no time.
 */
export function parseWechatpayResource(
  plaintext: string,
  expected: WechatpayExpectation & { notifyId: string; fallbackTime: Date },
): PaymentNotification {
  let json: unknown;
  try {
    json = JSON.parse(plaintext);
  } catch {
    format("The resource is not JSON");
  }
  if (typeof json === "object" && json !== null && "refund_status" in json) {
    const parsed = refundSchema.safeParse(json);
    if (!parsed.success) format(`Not a refund: ${parsed.error.message}`);
    const refund = parsed.data;
    if (refund.mchid !== expected.mchId)
      throw new PaymentNotificationError("app-id", `Refund for mchid ${refund.mchid}`);
    if (refund.refund_status !== "SUCCESS") format(`Unhandled refund_status ${refund.refund_status}`);
    if (refund.amount.refund > refund.amount.total) format("The refund is more than the total");
    return {
      provider: "wechatpay",
      kind: "refunded",
      appId: expected.appId,
      outTradeNo: refund.out_trade_no,
      tradeNo: refund.transaction_id,
      amountFen: refund.amount.total,
      refundFen: refund.amount.refund,
      refundNo: refund.out_refund_no,
      occurredAt: refund.success_time ? parseWechatpayTime(refund.success_time) : expected.fallbackTime,
      notifyId: expected.notifyId,
    };
  }
  const parsed = transactionSchema.safeParse(json);
  if (!parsed.success) format(`Not a transaction: ${parsed.error.message}`);
  const transaction = parsed.data;
  if (transaction.appid !== expected.appId)
    throw new PaymentNotificationError("app-id", `Transaction for appid ${transaction.appid}`);
  if (transaction.mchid !== expected.mchId)
    throw new PaymentNotificationError("app-id", `Transaction for mchid ${transaction.mchid}`);
  if (transaction.amount.currency !== undefined && transaction.amount.currency !== "CNY")
    format(`Unsupported currency ${transaction.amount.currency}`);
  const base = {
    provider: "wechatpay",
    appId: transaction.appid,
    outTradeNo: transaction.out_trade_no,
    tradeNo: transaction.transaction_id ?? "",
    amountFen: transaction.amount.total,
    notifyId: expected.notifyId,
  };
  switch (transaction.trade_state) {
    case "SUCCESS":
      if (!transaction.transaction_id) format("A paid transaction without transaction_id");
      if (!transaction.success_time) format("A paid transaction without success_time");
      return { ...base, kind: "paid", occurredAt: parseWechatpayTime(transaction.success_time) };
    case "CLOSED":
    case "REVOKED":
      return { ...base, kind: "closed", occurredAt: expected.fallbackTime };
    case "REFUND":
      return { ...base, kind: "refunded", occurredAt: expected.fallbackTime };
    default:
      return format(`Unhandled trade_state ${transaction.trade_state}`);
  }
}

/** Everything needed to accept a notification. */
export interface WechatpayNotificationInput extends WechatpayExpectation {
  headers: Record<string, string | undefined>;
  rawBody: string;
  now: Date;
  platformKeys: WechatpayPlatformKeys;
  apiV3Key: string | Buffer;
}

/** Verifies (timestamp, signature), decrypts and reads a notification; throws {@link PaymentNotificationError}. */
export function parseWechatpayNotification(input: WechatpayNotificationInput): PaymentNotification {
  verifyWechatpaySignature(input.headers, input.rawBody, input.now, input.platformKeys);
  let json: unknown;
  try {
    json = JSON.parse(input.rawBody);
  } catch {
    format("The body is not JSON");
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) format(`Not a notification: ${envelope.error.message}`);
  const plaintext = decryptWechatpayResource(envelope.data.resource, input.apiV3Key);
  return parseWechatpayResource(plaintext, {
    appId: input.appId,
    mchId: input.mchId,
    notifyId: envelope.data.id,
    fallbackTime: parseWechatpayTime(envelope.data.create_time),
  });
}

/** A notification as the platform would send it (for tests and simulations). */
export function buildWechatpayNotification(input: {
  resource: WechatpayTransaction | WechatpayRefund;
  apiV3Key: string | Buffer;
  platformPrivateKey: WechatpayKey;
  serial: string;
  now?: Date;
  id?: string;
  eventType?: string;
  summary?: string;
}): { headers: Record<string, string>; body: string } {
  const now = input.now ?? new Date();
  const refund = "refund_status" in input.resource;
  const envelope: WechatpayEnvelope = {
    id: input.id ?? randomUUID(),
    create_time: formatWechatpayTime(now),
    resource_type: "encrypt-resource",
    event_type: input.eventType ?? (refund ? "REFUND.SUCCESS" : "TRANSACTION.SUCCESS"),
    summary: input.summary ?? (refund ? "退款成功" : "支付成功"),
    resource: encryptWechatpayResource(
      JSON.stringify(input.resource),
      input.apiV3Key,
      refund ? "refund" : "transaction",
    ),
  };
  const body = JSON.stringify(envelope);
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const nonce = randomNonce(32);
  return {
    headers: {
      "Wechatpay-Timestamp": timestamp,
      "Wechatpay-Nonce": nonce,
      "Wechatpay-Signature": signWechatpayMessage(timestamp, nonce, body, input.platformPrivateKey),
      "Wechatpay-Serial": input.serial,
      "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
      "Content-Type": "application/json",
    },
    body,
  };
}

/** The answer to WeChat Pay: 200 SUCCESS once handled; 500 FAIL makes it retry. */
export function wechatpayAnswer(accepted: boolean, message = "失败"): NotificationAnswer {
  return accepted
    ? { status: 200, contentType: "application/json", body: JSON.stringify({ code: "SUCCESS", message: "成功" }) }
    : { status: 500, contentType: "application/json", body: JSON.stringify({ code: "FAIL", message }) };
}
