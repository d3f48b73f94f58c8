import { type KeyObject, createPrivateKey, createPublicKey, sign, verify } from "node:crypto";

/**
 * Alipay's "RSA2" signature (SHA256withRSA, PKCS#1 v1.5) over a parameter
 * map, and the yuan/fen conversions of its amount fields.
 *
 * The signed string of a parameter map: without `sign` and `sign_type`,
 * without empty values, keys in ASCII order, `key=value` joined by `&`, with
 * the raw (decoded, not URL-encoded) values.
 */

/** A key as a KeyObject, a PEM text, or the bare base64 body Alipay's console shows. */
export type AlipayKey = KeyObject | string;

/** A parameter map as decoded from a form or a query string; missing values are skipped. */
export type AlipayParams = Readonly<Record<string, string | null | undefined>>;

/** The keys never part of the signed string of an asynchronous notification. */
const UNSIGNED_KEYS = new Set(["sign", "sign_type"]);

/** The string Alipay signs for `params`. */
export function alipayCanonicalString(params: AlipayParams): string {
  const keys = Object.keys(params).filter((key) => {
    const value = params[key];
    return !UNSIGNED_KEYS.has(key) && value !== undefined && value !== null && value !== "";
  });
  // ASCII order is code-unit order; localeCompare would not give it.
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return keys.map((key) => `${key}=${params[key]}`).join("&");
}

/** The base64 RSA2 signature of `params` with the merchant's (or, in the sandbox, Alipay's) private key. */
export function signAlipayParams(params: AlipayParams, privateKey: AlipayKey): string {
  const data = Buffer.from(alipayCanonicalString(params), "utf8");
  return sign("sha256", data, loadAlipayPrivateKey(privateKey)).toString("base64");
}

/** Whether `signature` (base64) is a valid RSA2 signature of `params` by the holder of `publicKey`. */
export function verifyAlipayParams(params: AlipayParams, signature: string, publicKey: AlipayKey): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(signature)) return false;
  const data = Buffer.from(alipayCanonicalString(params), "utf8");
  try {
    return verify("sha256", data, loadAlipayPublicKey(publicKey), Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

function pem(label: string, base64: string): string {
  const body = base64.replace(/\s+/g, "");
  const lines = body.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

/** A public key from a KeyObject, a PEM text, or Alipay's bare base64 (X.509 SubjectPublicKeyInfo). */
export function loadAlipayPublicKey(key: AlipayKey): KeyObject {
  if (typeof key !== "string") return key.type === "private" ? createPublicKey(key) : key;
  return createPublicKey(key.includes("-----BEGIN") ? key : pem("PUBLIC KEY", key));
}

/** A private key from a KeyObject, a PEM text, or a bare base64 body (PKCS#8, or PKCS#1 as some SDKs give it). */
export function loadAlipayPrivateKey(key: AlipayKey): KeyObject {
  if (typeof key !== "string") return key;
  if (key.includes("-----BEGIN")) return createPrivateKey(key);
  const der = Buffer.from(key.replace(/\s+/g, ""), "base64");
  try {
    return createPrivateKey({ key: der, format: "der", type: "pkcs8" });
  } catch {
    return createPrivateKey({ key: der, format: "der", type: "pkcs1" });
  }
}

/** An amount in fen as Alipay's yuan text with two decimals: 1990 → "19.90", 5 → "0.05", -150 → "-1.50". */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`An amount in fen must be a safe integer, got ${fen}`);
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const cents = abs % 100;
  return `${sign}${(abs - cents) / 100}.${cents < 10 ? "0" : ""}${cents}`;
}

const YUAN = /^(\d+)(?:\.(\d{1,2}))?$/;

/**
 * Alipay's yuan text as integer fen: "19.9" → 1990, "0.29" → 29, "3" → 300.
 * Digits only, with at most two decimals; signs, exponents, spaces, "1." and
 * ".5" are refused (throws), as are amounts beyond the safe integer range.
 */
export function parseYuanToFen(text: string): number {
  const match = typeof text === "string" ? YUAN.exec(text) : null;
  if (!match) throw new RangeError(`Not a yuan amount with at most 2 decimals: ${JSON.stringify(text)}`);
  const [, whole = "", decimals = ""] = match;
  const fen = BigInt(whole) * 100n + BigInt(decimals.padEnd(2, "0"));
  if (fen > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`Yuan amount too large: ${text}`);
  return Number(fen);
}
