import { type KeyObject, randomBytes, sign } from "node:crypto";

import { z } from "zod";

import { type WechatpayKey, verifyWechatpaySignature } from "./wechatpay-crypto.js";
import { type PaymentOperationFailure, PaymentNotificationError, PaymentOperationError } from "./types.js";

/**
 * Talking to WeChat Pay's API v3: requests signed `WECHATPAY2-SHA256-RSA2048`
 * with the merchant key, answers believed only with a valid platform
 * signature, and errors mapped to what the provider's callers expect.
 */

const USER_AGENT = "shuzang-server/1.0 (WeChat Pay API v3; Node.js)";

/**
 * A call to WeChat Pay that did not give a usable answer: no answer in time
 * (`timeout`), no connection (`network`), an answer without a valid platform
 * signature (`signature`), an error the provider does not map to a
 * {@link PaymentOperationError} (`refused`: e.g. 401 SIGN_ERROR, 5xx
 * SYSTEM_ERROR, 429), or a 2xx body that is not what the API documents
 * (`format`).
 */
export class WechatpayGatewayError extends Error {
  constructor(
    readonly reason: "timeout" | "network" | "signature" | "refused" | "format",
    readonly status: number | null,
    readonly code: string | null,
    message: string,
  ) {
    super(message);
    this.name = "WechatpayGatewayError";
  }
}

export interface WechatpayAnswer {
  status: number;
  body: string;
  /** The answer carried a platform signature and it verified. */
  signed: boolean;
  /** The error code and message of a non-2xx answer. */
  code: string | null;
  message: string;
}

const OPERATION_FAILURES: Record<string, PaymentOperationFailure> = {
  ORDER_NOT_EXIST: "unknown-trade",
  RESOURCE_NOT_EXISTS: "unknown-trade",
  ORDERPAID: "trade-paid",
  ORDER_CLOSED: "trade-closed",
  OUT_TRADE_NO_USED: "conflict",
  PARAM_ERROR: "invalid-request",
  INVALID_REQUEST: "invalid-request",
  APPID_MCHID_NOT_MATCH: "invalid-request",
};

const NONCE_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const nonceString = () => Array.from(randomBytes(32), (byte) => NONCE_ALPHABET[byte % NONCE_ALPHABET.length]).join("");

const errorSchema = z.looseObject({ code: z.string(), message: z.string().optional() });

/** The message a request signature covers: `METHOD\nURL\ntimestamp\nnonce\nbody\n`. */
export function wechatpayRequestMessage(
  method: string,
  pathWithQuery: string,
  timestamp: string,
  nonce: string,
  body: string,
): string {
  return `${method}\n${pathWithQuery}\n${timestamp}\n${nonce}\n${body}\n`;
}

/** Reads the fields of an `Authorization: WECHATPAY2-SHA256-RSA2048 k="v",…` header (null when it is not one). */
export function parseWechatpayAuthorization(header: string | undefined): Record<string, string> | null {
  const prefix = "WECHATPAY2-SHA256-RSA2048 ";
  if (!header?.startsWith(prefix)) return null;
  const fields: Record<string, string> = {};
  for (const match of header.slice(prefix.length).matchAll(/([a-z_]+)="([^"]*)"/g)) fields[match[1]!] = match[2]!;
  return fields;
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const isOk = (answer: WechatpayAnswer) => answer.status >= 200 && answer.status < 300;

/** The error for a non-2xx answer: signed business codes map to PaymentOperationError, the rest do not. */
export function failure(operation: string, answer: WechatpayAnswer): Error {
  const text = `${operation}: HTTP ${answer.status} ${answer.code ?? "(no code)"}${answer.message ? ` ${answer.message}` : ""}`;
  const mapped = answer.code === null ? undefined : OPERATION_FAILURES[answer.code];
  if (answer.signed && mapped !== undefined && answer.status >= 400 && answer.status < 500)
    return new PaymentOperationError(mapped, text);
  return new WechatpayGatewayError("refused", answer.status, answer.code, text);
}

/** A 2xx answer's body as the API documents it, or a `format` error. */
export function json<T>(operation: string, answer: WechatpayAnswer, schema: z.ZodType<T>): T {
  const parsed = schema.safeParse(safeJson(answer.body));
  if (!parsed.success)
    throw new WechatpayGatewayError("format", answer.status, null, `${operation}: unexpected answer body`);
  return parsed.data;
}

export interface WechatpayGatewayConfig {
  /** The API's base URL, without a trailing slash. */
  gateway: string;
  mchId: string;
  /** The serial number of the merchant API certificate whose private key signs requests. */
  mchSerial: string;
  privateKey: KeyObject;
  /** The platform key we hold (the public-key mode's `PUB_KEY_ID_…`), and every key answers may be signed with. */
  platformPublicKeyId: string;
  platformKeys: ReadonlyMap<string, WechatpayKey>;
  timeoutMs: number;
  now: () => Date;
}

export interface WechatpayGateway {
  /** The signed request headers: Authorization, Accept, User-Agent and Wechatpay-Serial. */
  headers(method: string, pathWithQuery: string, body: string, accept: string): Record<string, string>;
  /** One API call; the answer is verified (a success must be signed), errors come back as answers. */
  call(operation: string, method: "GET" | "POST", path: string, payload?: unknown): Promise<WechatpayAnswer>;
}

/** Sends a request; no answer in time or no connection is a {@link WechatpayGatewayError}. */
async function send(operation: string, url: URL, init: RequestInit, timeoutMs: number) {
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    return { response, text };
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (name === "TimeoutError" || name === "AbortError")
      throw new WechatpayGatewayError("timeout", null, null, `${operation}: no answer within ${timeoutMs} ms`);
    throw new WechatpayGatewayError("network", null, null, `${operation}: ${(error as Error).message}`);
  }
}

export function createWechatpayGateway(config: WechatpayGatewayConfig): WechatpayGateway {
  const { gateway, mchId, mchSerial, privateKey, platformPublicKeyId, platformKeys, timeoutMs, now } = config;

  function authorization(method: string, pathWithQuery: string, body: string): string {
    const timestamp = String(Math.floor(now().getTime() / 1000));
    const nonce = nonceString();
    const signature = sign(
      "sha256",
      Buffer.from(wechatpayRequestMessage(method, pathWithQuery, timestamp, nonce, body), "utf8"),
      privateKey,
    ).toString("base64");
    return (
      `WECHATPAY2-SHA256-RSA2048 mchid="${mchId}",nonce_str="${nonce}",signature="${signature}",` +
      `timestamp="${timestamp}",serial_no="${mchSerial}"`
    );
  }

  function headers(method: string, pathWithQuery: string, body: string, accept: string): Record<string, string> {
    return {
      Authorization: authorization(method, pathWithQuery, body),
      Accept: accept,
      "User-Agent": USER_AGENT,
      // In the public-key mode this tells WeChat Pay which key we hold, so it signs the answer with it.
      "Wechatpay-Serial": platformPublicKeyId,
    };
  }

  async function call(operation: string, method: "GET" | "POST", path: string, payload?: unknown) {
    const url = new URL(`${gateway}${path}`);
    const body = payload === undefined ? "" : JSON.stringify(payload);
    const requestHeaders = headers(method, `${url.pathname}${url.search}`, body, "application/json");
    if (payload !== undefined) requestHeaders["Content-Type"] = "application/json";
    const init: RequestInit = { method, headers: requestHeaders, ...(payload === undefined ? {} : { body }) };
    const { response, text } = await send(operation, url, init, timeoutMs);
    const answerHeaders: Record<string, string> = {};
    response.headers.forEach((value, name) => (answerHeaders[name] = value));
    const ok = response.status >= 200 && response.status < 300;
    const carriesSignature = answerHeaders["wechatpay-signature"] !== undefined;
    // A success must be signed; an error may be unsigned (401 SIGN_ERROR is), but a signature present must verify.
    if (ok || carriesSignature) {
      try {
        verifyWechatpaySignature(answerHeaders, text, now(), platformKeys);
      } catch (error) {
        if (!(error instanceof PaymentNotificationError)) throw error;
        throw new WechatpayGatewayError(
          "signature",
          response.status,
          null,
          `${operation}: the answer (HTTP ${response.status}) is refused: ${error.message}`,
        );
      }
    }
    let code: string | null = null;
    let message = "";
    if (!ok) {
      const parsed = errorSchema.safeParse(safeJson(text));
      code = parsed.success ? parsed.data.code : null;
      message = parsed.success ? (parsed.data.message ?? "") : "";
    }
    return { status: response.status, body: text, signed: carriesSignature, code, message };
  }

  return { headers, call };
}
