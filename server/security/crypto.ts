import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Authenticated encryption of personal data at rest (AES-256-GCM). Each
 * ciphertext carries the id of its key, so keys can rotate: new data is
 * sealed with the active key, old data still opens with its own.
 * Format: `v1.<key id>.<iv>.<tag>.<ciphertext>` (base64url parts).
 */
export class Sealer {
  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    private readonly activeKeyId: string,
  ) {
    if (!keys.has(activeKeyId)) throw new Error(`no key "${activeKeyId}"`);
  }

  /** Encrypts `plaintext`; `context` (e.g. "kyc.name:42") is bound to the ciphertext and must match on open. */
  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.keys.get(this.activeKeyId)!, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return ["v1", this.activeKeyId, iv, cipher.getAuthTag(), body]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  }

  /** Decrypts a value made by {@link seal} with the same `context`; throws when it was altered. */
  open(sealed: string, context: string): string {
    const [version, keyId, iv, tag, body] = sealed.split(".");
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (version !== "v1" || key === undefined || iv === undefined || tag === undefined || body === undefined) {
      throw new Error("sealed value in an unknown format or key");
    }
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAAD(Buffer.from(context, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(body, "base64url")), decipher.final()]).toString("utf8");
  }

  /** The key id a sealed value was written with. */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split(".")[1];
  }
}

/** HMAC-SHA256 of `value` under `key`, as lowercase hex. */
export function hmacHex(key: string, value: string): string {
  return createHmac("sha256", key).update(value, "utf8").digest("hex");
}

/** Constant-time comparison of two hex strings. */
/** Compares two secrets in constant time, whatever their lengths (their digests are compared). */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

export function equalHex(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}

/** A random token for cookies and CSRF, base64url. */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}
