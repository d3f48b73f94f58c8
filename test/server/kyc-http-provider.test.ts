import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createHttpKycProvider, signKycRequest } from "../../server/providers/kyc/http.js";
import { KycProviderUnavailable } from "../../server/providers/kyc/types.js";

const APP_ID = "shuzang-test";
const SECRET = "a-test-secret-of-some-length";

/**
 * A local server speaking the verification API: checks the signature, then
 * answers by the name: 匹配 → match, 不符 → mismatch, 故障 → 500 twice then
 * match, 缓慢 → too slow, 拒绝 → refused request.
 */
function verificationServer() {
  const calls: string[] = [];
  const failuresLeft = new Map<string, number>();
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const header = (name: string) => String(request.headers[name] ?? "");
    const expected = signKycRequest(SECRET, header("x-app-id"), header("x-timestamp"), header("x-nonce"), body);
    const send = (status: number, payload: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(payload));
    };
    if (header("x-app-id") !== APP_ID || header("x-signature") !== expected)
      return send(200, { code: "401", message: "bad signature" });
    const { name } = JSON.parse(body) as { name: string };
    calls.push(name);
    if (name === "缓慢") {
      setTimeout(() => send(200, { code: "0", result: "match" }), 500);
      return;
    }
    if (name === "故障") {
      const left = failuresLeft.get(name) ?? 2;
      failuresLeft.set(name, left - 1);
      if (left > 0) return send(503, { code: "503" });
    }
    if (name === "拒绝") return send(200, { code: "20001", message: "insufficient balance" });
    send(200, { code: "0", result: name === "不符" ? "mismatch" : "match", requestId: `req-${calls.length}` });
  });
  return { server, calls };
}

describe("HTTP KYC provider", () => {
  let server: Server;
  let calls: string[];
  let url: string;

  beforeAll(async () => {
    ({ server, calls } = verificationServer());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/verify`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const provider = (overrides: { secret?: string; retries?: number } = {}) =>
    createHttpKycProvider({
      url,
      appId: APP_ID,
      secret: overrides.secret ?? SECRET,
      timeoutMs: 200,
      retries: overrides.retries ?? 2,
      backoffMs: 10,
    });

  it("signs its requests and reads a match and a mismatch", async () => {
    expect(await provider().verify({ name: "匹配", idNumber: "11010519491231002X" })).toMatchObject({
      outcome: "match",
      reference: expect.stringMatching(/^req-/),
    });
    expect((await provider().verify({ name: "不符", idNumber: "11010519491231002X" })).outcome).toBe("mismatch");
  });

  it("retries server errors with backoff and succeeds", async () => {
    const before = calls.length;
    expect((await provider().verify({ name: "故障", idNumber: "11010519491231002X" })).outcome).toBe("match");
    expect(calls.length - before).toBe(3);
  });

  it("gives up as unavailable after timeouts, and at once on a refused request", async () => {
    await expect(
      provider({ retries: 1 }).verify({ name: "缓慢", idNumber: "11010519491231002X" }),
    ).rejects.toBeInstanceOf(KycProviderUnavailable);
    await expect(provider().verify({ name: "拒绝", idNumber: "11010519491231002X" })).rejects.toThrow(/code 20001/);
    await expect(
      provider({ secret: "wrong-secret-wrong-secret" }).verify({ name: "匹配", idNumber: "1" }),
    ).rejects.toThrow(/code 401/);
  });

  it("counts as unavailable when nothing listens", async () => {
    const down = createHttpKycProvider({
      url: "http://127.0.0.1:9/verify",
      appId: APP_ID,
      secret: SECRET,
      timeoutMs: 200,
      retries: 1,
      backoffMs: 10,
    });
    await expect(down.verify({ name: "匹配", idNumber: "1" })).rejects.toBeInstanceOf(KycProviderUnavailable);
  });
});
