import { createHmac, timingSafeEqual } from "node:crypto";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An in-process stand-in for Alibaba Cloud SMS (Dysmsapi 2017-05-25) that checks requests the way the service
 * does, written apart from the adapter: the HMAC-SHA1 signature (version 1.0) over the sorted, RFC 3986-encoded
 * parameters with the AccessKey secret + "&", a known AccessKey id, a fresh Timestamp (15 minutes) and a
 * SignatureNonce never seen before. Accepted messages are kept (number, template, parameters).
 */

export interface AliyunSmsStandIn {
  url: string;
  messages: { phone: string; signName: string; templateCode: string; params: Record<string, string> }[];
  /** Every answer's Code, in order (OK, SignatureDoesNotMatch, …). */
  answers: string[];
  close(): Promise<void>;
}

/** RFC 3986 percent-encoding, byte by byte: only A–Z a–z 0–9 - _ . ~ stay. */
function rfc3986(text: string): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

export async function startAliyunSmsStandIn(input: {
  accessKeyId: string;
  accessKeySecret: string;
}): Promise<AliyunSmsStandIn> {
  const messages: AliyunSmsStandIn["messages"] = [];
  const answers: string[] = [];
  const nonces = new Set<string>();

  function judge(method: string, params: Map<string, string>): string {
    const signature = params.get("Signature");
    if (signature === undefined) return "MissingSignature";
    if (params.get("AccessKeyId") !== input.accessKeyId) return "InvalidAccessKeyId.NotFound";
    if (params.get("SignatureMethod") !== "HMAC-SHA1" || params.get("SignatureVersion") !== "1.0")
      return "InvalidSignatureMethod";
    const canonical = [...params.keys()]
      .filter((key) => key !== "Signature")
      .sort()
      .map((key) => `${rfc3986(key)}=${rfc3986(params.get(key)!)}`)
      .join("&");
    const expected = createHmac("sha1", `${input.accessKeySecret}&`)
      .update(`${method}&${rfc3986("/")}&${rfc3986(canonical)}`)
      .digest();
    const given = Buffer.from(signature, "base64");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "SignatureDoesNotMatch";
    const at = Date.parse(params.get("Timestamp") ?? "");
    if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.get("Timestamp") ?? "") || Math.abs(Date.now() - at) > 900_000)
      return "InvalidTimeStamp.Expired";
    const nonce = params.get("SignatureNonce") ?? "";
    if (nonce === "" || nonces.has(nonce)) return "SignatureNonceUsed";
    nonces.add(nonce);
    if (params.get("Action") !== "SendSms" || params.get("Version") !== "2017-05-25") return "InvalidAction";
    const phone = params.get("PhoneNumbers") ?? "";
    if (!/^1[3-9]\d{9}$/.test(phone)) return "isv.MOBILE_NUMBER_ILLEGAL";
    messages.push({
      phone,
      signName: params.get("SignName") ?? "",
      templateCode: params.get("TemplateCode") ?? "",
      params: JSON.parse(params.get("TemplateParam") ?? "{}") as Record<string, string>,
    });
    return "OK";
  }

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const query = new URL(request.url ?? "/", "http://stand-in").searchParams;
      const form = new URLSearchParams(request.method === "POST" ? Buffer.concat(chunks).toString("utf8") : "");
      const params = new Map<string, string>([...query, ...form]);
      const code = judge(request.method ?? "GET", params);
      answers.push(code);
      response.writeHead(code === "OK" ? 200 : 400, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          Code: code,
          Message: code === "OK" ? "OK" : code,
          RequestId: "00000000-0000-4000-8000-000000000000",
          ...(code === "OK" ? { BizId: `${Date.now()}^0` } : {}),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    messages,
    answers,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
