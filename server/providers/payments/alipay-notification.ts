import {
  type AlipayKey,
  type AlipayParams,
  parseYuanToFen,
  signAlipayParams,
  verifyAlipayParams,
} from "./alipay-signature.js";
import {
  type NotificationAnswer,
  type PaymentEventKind,
  type PaymentNotification,
  PaymentNotificationError,
} from "./types.js";

/**
 * Alipay's asynchronous notification (异步通知): an
 * `application/x-www-form-urlencoded` POST, charset utf-8, signed RSA2 with
 * Alipay's private key. The merchant answers the plain text `success`;
 * anything else makes Alipay retry (4m, 10m, 10m, 1h, 2h, 6h, 15h).
 */

/** The fields of a notification this layer reads or writes. */
export interface AlipayNotificationCore {
  notify_time: string;
  notify_type?: string;
  notify_id: string;
  app_id: string;
  charset?: string;
  version?: string;
  trade_no: string;
  out_trade_no: string;
  trade_status: string;
  total_amount: string;
  gmt_payment?: string;
  gmt_close?: string;
  refund_fee?: string;
  gmt_refund?: string;
  out_biz_no?: string;
  buyer_id?: string;
  seller_id?: string;
}

/** A notification's fields: the ones above and any other (Alipay sends more; they are signed too). */
export type AlipayNotificationFields = AlipayNotificationCore & { [other: string]: string | undefined };

/** What to verify a notification against. */
export interface AlipayNotificationExpectation {
  /** Alipay's public key (not the merchant's). */
  publicKey: AlipayKey;
  /** Our app id; notifications for another app are refused. */
  appId: string;
  /**
   * Our seller id (the merchant's Alipay user id, 2088…): Alipay's rules say to check a notification's
   * `seller_id`; when given, a notification for another seller (or without one) is refused as `seller-id`.
   */
  sellerId?: string;
  /** The provider name put in the parsed notification; "alipay" unless told. */
  provider?: string;
}

/** The body Alipay expects once a notification is handled. */
export const ALIPAY_SUCCESS_ANSWER = "success";

/** China Standard Time, which Alipay's timestamps are in, has no daylight saving. */
const CHINA_OFFSET_MS = 8 * 3600 * 1000;

const pad = (value: number, width = 2) => String(value).padStart(width, "0");

/** `date` as Alipay writes times, in China time: "2024-05-01 08:30:00" (with ".SSS" when `millis`). */
export function formatChinaTime(date: Date, options: { millis?: boolean } = {}): string {
  if (Number.isNaN(date.getTime())) throw new RangeError("Invalid date");
  const shifted = new Date(date.getTime() + CHINA_OFFSET_MS);
  const text =
    `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())} ` +
    `${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}:${pad(shifted.getUTCSeconds())}`;
  return options.millis ? `${text}.${pad(shifted.getUTCMilliseconds(), 3)}` : text;
}

const CHINA_TIME = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?$/;

/** Alipay's "yyyy-MM-dd HH:mm:ss" (optionally ".SSS", as in `gmt_refund`), China time, as a Date; throws when invalid. */
export function parseChinaTime(text: string): Date {
  const match = CHINA_TIME.exec(text);
  if (!match) throw new RangeError(`Not a "yyyy-MM-dd HH:mm:ss" time: ${JSON.stringify(text)}`);
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const millis = match[7] ? Number(match[7].padEnd(3, "0")) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(utc);
  // Date.UTC rolls over (Feb 30 → Mar 2); a real calendar time survives the round trip.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  )
    throw new RangeError(`Not a calendar time: ${JSON.stringify(text)}`);
  return new Date(utc - CHINA_OFFSET_MS);
}

/** The decoded fields of a form body; a field given twice makes the body ambiguous and is refused. */
export function decodeAlipayForm(rawBody: string): Record<string, string> {
  if (typeof rawBody !== "string" || rawBody.length === 0)
    throw new PaymentNotificationError("format", "Empty notification body");
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [key, value] of new URLSearchParams(rawBody)) {
    if (Object.hasOwn(fields, key)) throw new PaymentNotificationError("format", `Field ${key} given twice`);
    fields[key] = value;
  }
  return fields;
}

function required(fields: Record<string, string>, key: string): string {
  const value = fields[key];
  if (value === undefined || value === "") throw new PaymentNotificationError("format", `Missing ${key}`);
  return value;
}

function amount(fields: Record<string, string>, key: string): number {
  try {
    return parseYuanToFen(required(fields, key));
  } catch (error) {
    if (error instanceof PaymentNotificationError) throw error;
    throw new PaymentNotificationError("format", `Bad ${key}: ${(error as Error).message}`);
  }
}

function time(fields: Record<string, string>, key: string): Date {
  try {
    return parseChinaTime(required(fields, key));
  } catch (error) {
    if (error instanceof PaymentNotificationError) throw error;
    throw new PaymentNotificationError("format", `Bad ${key}: ${(error as Error).message}`);
  }
}

const present = (fields: Record<string, string>, key: string) => (fields[key] ?? "") !== "";

/**
 * Verifies an Alipay asynchronous notification and reads it. Refuses
 * (throws {@link PaymentNotificationError}) when the signature is missing or
 * wrong (`signature`), the app id is not ours (`app-id`), the seller is not
 * ours when we know it (`seller-id`), or the content is
 * not a notification we understand (`format`).
 *
 * `trade_status` TRADE_SUCCESS / TRADE_FINISHED → "paid", TRADE_CLOSED →
 * "closed"; with a `refund_fee` > 0 (a full refund closes the trade, a
 * partial one keeps it TRADE_SUCCESS and adds `gmt_refund`) → "refunded",
 * `refundFen` being the trade's cumulative refunded total.
 */
export function verifyAlipayNotification(
  rawBody: string,
  expected: AlipayNotificationExpectation,
): PaymentNotification {
  const fields = decodeAlipayForm(rawBody);
  const signature = fields.sign;
  if (signature === undefined || signature === "") throw new PaymentNotificationError("signature", "Missing sign");
  if (fields.sign_type !== "RSA2")
    throw new PaymentNotificationError("signature", `Unsupported sign_type ${JSON.stringify(fields.sign_type)}`);
  if (!verifyAlipayParams(fields, signature, expected.publicKey))
    throw new PaymentNotificationError("signature", "The signature does not verify with Alipay's public key");
  if (fields.app_id !== expected.appId)
    throw new PaymentNotificationError("app-id", `Notification for app ${JSON.stringify(fields.app_id)}`);
  if (expected.sellerId !== undefined && fields.seller_id !== expected.sellerId)
    throw new PaymentNotificationError("seller-id", `Notification for seller ${JSON.stringify(fields.seller_id)}`);
  if (present(fields, "charset") && fields.charset?.toLowerCase() !== "utf-8")
    throw new PaymentNotificationError("format", `Unsupported charset ${fields.charset}`);

  const notifyId = required(fields, "notify_id");
  const notifyTime = time(fields, "notify_time");
  const outTradeNo = required(fields, "out_trade_no");
  const tradeNo = required(fields, "trade_no");
  const status = required(fields, "trade_status");
  const amountFen = amount(fields, "total_amount");
  const refundFen = present(fields, "refund_fee") ? amount(fields, "refund_fee") : 0;
  if (refundFen > amountFen) throw new PaymentNotificationError("format", "refund_fee is more than total_amount");

  let kind: PaymentEventKind;
  let occurredAt: Date;
  if (status === "TRADE_SUCCESS" || status === "TRADE_FINISHED") {
    const refunded = refundFen > 0 && present(fields, "gmt_refund");
    kind = refunded ? "refunded" : "paid";
    occurredAt = refunded
      ? time(fields, "gmt_refund")
      : present(fields, "gmt_payment")
        ? time(fields, "gmt_payment")
        : notifyTime;
  } else if (status === "TRADE_CLOSED") {
    kind = refundFen > 0 ? "refunded" : "closed";
    const at = kind === "refunded" ? "gmt_refund" : "gmt_close";
    occurredAt = present(fields, at) ? time(fields, at) : notifyTime;
  } else {
    throw new PaymentNotificationError("format", `Unhandled trade_status ${status}`);
  }

  const notification: PaymentNotification = {
    provider: expected.provider ?? "alipay",
    kind,
    appId: expected.appId,
    outTradeNo,
    tradeNo,
    amountFen,
    occurredAt,
    notifyId,
  };
  if (kind === "refunded") {
    notification.refundFen = refundFen;
    if (present(fields, "out_biz_no")) notification.refundNo = fields.out_biz_no;
  }
  return notification;
}

/**
 * A notification body as Alipay would send it: the fields (with
 * `notify_type` "trade_status_sync", `charset` "utf-8" and `version` "1.0"
 * unless given), `sign_type` RSA2, signed with `privateKey`, form-encoded.
 */
export function buildAlipayNotificationBody(fields: AlipayNotificationFields, privateKey: AlipayKey): string {
  const params: Record<string, string> = {};
  const all: AlipayParams = {
    notify_type: "trade_status_sync",
    charset: "utf-8",
    version: "1.0",
    ...fields,
    sign_type: "RSA2",
  };
  for (const [key, value] of Object.entries(all))
    if (value !== undefined && value !== null && value !== "") params[key] = value;
  delete params.sign;
  params.sign = signAlipayParams(params, privateKey);
  return new URLSearchParams(params).toString();
}

/** The answer to Alipay: `success` once handled; anything else (here `fail`, 400) makes it retry. */
export function alipayAnswer(accepted: boolean): NotificationAnswer {
  return accepted
    ? { status: 200, contentType: "text/plain; charset=utf-8", body: ALIPAY_SUCCESS_ANSWER }
    : { status: 400, contentType: "text/plain; charset=utf-8", body: "fail" };
}
