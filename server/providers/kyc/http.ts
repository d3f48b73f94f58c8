import { createHash, createHmac, randomUUID } from "node:crypto";

import { type KycProvider, KycProviderUnavailable, type KycVerdict } from "./types.js";

/**
 * Adapter for an HTTP name + ID number ("二要素") verification API of the
 * common shape licensed providers offer:
 *
 * `POST {url}` with JSON `{"name": "...", "idNumber": "..."}` and headers
 * - `X-App-Id`: the platform's app id;
 * - `X-Timestamp`: Unix seconds; `X-Nonce`: a fresh random string;
 * - `X-Signature`: hex HMAC-SHA256 under the app secret of
 *   `appId \n timestamp \n nonce \n hex(sha256(body))`.
 *
 * Answer `200` with `{"code": "0", "result": "match" | "mismatch", "requestId": "..."}`;
 * any other `code` is a refusal of the request (bad signature, no balance).
 * Timeouts, network errors and 5xx are retried with backoff; after the last
 * try, or on a refusal, the provider counts as unavailable.
 */
export interface HttpKycOptions {
  url: string;
  appId: string;
  secret: string;
  timeoutMs: number;
  retries: number;
  /** Base of the exponential backoff between tries. */
  backoffMs?: number;
}

export function signKycRequest(secret: string, appId: string, timestamp: string, nonce: string, body: string): string {
  const bodyHash = createHash("sha256").update(body, "utf8").digest("hex");
  return createHmac("sha256", secret).update(`${appId}\n${timestamp}\n${nonce}\n${bodyHash}`, "utf8").digest("hex");
}

export function createHttpKycProvider(options: HttpKycOptions): KycProvider {
  const backoffMs = options.backoffMs ?? 200;

  async function attempt(name: string, idNumber: string): Promise<KycVerdict | "retry"> {
    const body = JSON.stringify({ name, idNumber });
    const timestamp = String(Math.floor(Date.now() / 1000));
    const nonce = randomUUID();
    let response: Response;
    try {
      response = await fetch(options.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-app-id": options.appId,
          "x-timestamp": timestamp,
          "x-nonce": nonce,
          "x-signature": signKycRequest(options.secret, options.appId, timestamp, nonce, body),
        },
        body,
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch {
      return "retry";
    }
    if (response.status >= 500) return "retry";
    const payload = (await response.json().catch(() => null)) as {
      code?: string;
      result?: string;
      requestId?: string;
    } | null;
    if (response.status !== 200 || payload?.code !== "0") {
      throw new KycProviderUnavailable(`refused with status ${response.status}, code ${payload?.code ?? "none"}`);
    }
    if (payload.result !== "match" && payload.result !== "mismatch") {
      throw new KycProviderUnavailable("answered without a verdict");
    }
    return { outcome: payload.result, reference: payload.requestId ?? nonce };
  }

  return {
    name: "http",
    async verify({ name, idNumber }) {
      for (let tryIndex = 0; tryIndex <= options.retries; tryIndex++) {
        if (tryIndex > 0) await new Promise((resolve) => setTimeout(resolve, backoffMs * 2 ** (tryIndex - 1)));
        const result = await attempt(name, idNumber);
        if (result !== "retry") return result;
      }
      throw new KycProviderUnavailable(`no answer after ${options.retries + 1} tries`);
    },
  };
}
