import { createHmac, randomUUID } from "node:crypto";

import type { SmsProvider } from "./types.js";

/**
 * Alibaba Cloud SMS (短信服务, Dysmsapi 2017-05-25) `SendSms`, spoken as its RPC-style HTTPS API with the
 * version 1.0 HMAC-SHA1 request signature:
 *
 *   1. every parameter but `Signature` (the common ones and SendSms's own), sorted by name, each name and
 *      value percent-encoded per RFC 3986 (A–Z a–z 0–9 - _ . ~ kept, space as %20), joined `k=v&k=v`;
 *   2. StringToSign = METHOD + "&" + enc("/") + "&" + enc(canonical query);
 *   3. Signature = Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)).
 *
 * The request is a form POST to the endpoint; the answer is JSON whose `Code` is "OK" when the message was
 * accepted. The code goes only into `TemplateParam`, never into a log line.
 */
export interface AliyunSmsOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** The approved signature (签名), e.g. 数藏. */
  signName: string;
  /** The approved verification-code template (SMS_…) with a `${code}` variable. */
  templateCode: string;
  /** The API's base URL; `https://dysmsapi.aliyuncs.com` unless given. */
  endpoint?: string;
  regionId?: string;
  timeoutMs?: number;
  now?: () => Date;
}

export const ALIYUN_SMS_ENDPOINT = "https://dysmsapi.aliyuncs.com";

/** Percent-encoding of Alibaba Cloud's RPC signature: RFC 3986 unreserved characters only stay as they are. */
export function aliyunPercentEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The canonical query string of `params` (without `Signature`). */
export function aliyunCanonicalQuery(params: Record<string, string>): string {
  return Object.keys(params)
    .filter((key) => key !== "Signature")
    .sort()
    .map((key) => `${aliyunPercentEncode(key)}=${aliyunPercentEncode(params[key]!)}`)
    .join("&");
}

/** The version 1.0 HMAC-SHA1 signature of an RPC request. */
export function aliyunSignature(method: "GET" | "POST", params: Record<string, string>, secret: string): string {
  const stringToSign = `${method}&${aliyunPercentEncode("/")}&${aliyunPercentEncode(aliyunCanonicalQuery(params))}`;
  return createHmac("sha1", `${secret}&`).update(stringToSign, "utf8").digest("base64");
}

/** Thrown when Alibaba Cloud does not accept a message (or cannot be reached); carries its `Code`. */
export class SmsSendError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "SmsSendError";
  }
}

const isoSeconds = (date: Date) => `${date.toISOString().slice(0, 19)}Z`;

export function createAliyunSmsProvider(options: AliyunSmsOptions): SmsProvider {
  const endpoint = (options.endpoint ?? ALIYUN_SMS_ENDPOINT).replace(/\/+$/, "");
  const now = options.now ?? (() => new Date());
  return {
    name: "aliyun",
    async sendLoginCode(phone, code, _ttlMinutes) {
      const params: Record<string, string> = {
        AccessKeyId: options.accessKeyId,
        Action: "SendSms",
        Format: "JSON",
        RegionId: options.regionId ?? "cn-hangzhou",
        SignatureMethod: "HMAC-SHA1",
        SignatureNonce: randomUUID(),
        SignatureVersion: "1.0",
        Timestamp: isoSeconds(now()),
        Version: "2017-05-25",
        PhoneNumbers: phone,
        SignName: options.signName,
        TemplateCode: options.templateCode,
        TemplateParam: JSON.stringify({ code }),
      };
      const signature = aliyunSignature("POST", params, options.accessKeySecret);
      const body = `Signature=${aliyunPercentEncode(signature)}&${aliyunCanonicalQuery(params)}`;
      let answer: { Code?: unknown; Message?: unknown };
      try {
        const response = await fetch(`${endpoint}/`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
          body,
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        answer = (await response.json()) as typeof answer;
      } catch (error) {
        throw new SmsSendError("unreachable", `Alibaba Cloud SMS did not answer: ${(error as Error).message}`);
      }
      if (answer.Code !== "OK")
        throw new SmsSendError(String(answer.Code ?? "unknown"), `SendSms refused: ${String(answer.Message ?? "")}`);
    },
  };
}
