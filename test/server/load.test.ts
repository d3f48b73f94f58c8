import type { FastifyInstance } from "fastify";
import { afterEach, describe, expect, it } from "vitest";

import { CSRF_COOKIE, CSRF_HEADER, buildHttpApp } from "../../server/http/app.js";
import { type TestPlatform, createTestPlatform, databasesUnderTest, newPhone } from "./helpers.js";

const [pglite] = databasesUnderTest();

/**
 * The production edge: the client's address through a trusted proxy (so
 * per-IP limits are per person, not per load balancer), load shedding before
 * the event loop stalls, and per-route figures in /metrics.
 */
describe("behind a proxy and under load", () => {
  let test: TestPlatform | undefined;
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    await test?.close();
  });

  async function start(env: Record<string, string>) {
    test = await createTestPlatform(pglite!, { env });
    app = await buildHttpApp(test.platform, { logger: false });
    return app;
  }

  /** Asks for a login code as a browser behind the proxy at 127.0.0.1 whose client is `client`. */
  async function requestCode(server: FastifyInstance, client: string) {
    const csrf = "load-test-csrf";
    const answer = await server.inject({
      method: "POST",
      url: "/trpc/auth.requestCode",
      remoteAddress: "127.0.0.1",
      headers: {
        "content-type": "application/json",
        "x-forwarded-for": client,
        cookie: `${CSRF_COOKIE}=${csrf}`,
        [CSRF_HEADER]: csrf,
      },
      payload: JSON.stringify({ phone: newPhone() }),
    });
    return answer.statusCode;
  }

  it("counts per-IP limits per client behind a trusted proxy, and per proxy without TRUST_PROXY", async () => {
    const trusting = await start({ TRUST_PROXY: "127.0.0.1", OTP_HOURLY_LIMIT_PER_IP: "1" });
    expect(await requestCode(trusting, "203.0.113.7")).toBe(200);
    expect(await requestCode(trusting, "203.0.113.7")).toBe(429);
    expect(await requestCode(trusting, "198.51.100.20")).toBe(200);
    await app!.close();
    await test!.close();

    const untrusting = await start({ OTP_HOURLY_LIMIT_PER_IP: "1" });
    expect(await requestCode(untrusting, "203.0.113.7")).toBe(200);
    // Everyone behind the proxy is one address: the header is not believed.
    expect(await requestCode(untrusting, "198.51.100.20")).toBe(429);
  });

  it("answers 503 server.busy with Retry-After while the event loop lags, but still answers the probes", async () => {
    const server = await start({ SHED_EVENT_LOOP_DELAY_MS: "50" });
    const block = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        // the event loop is stuck, as under a burst of synchronous work
      }
    };
    let shed: { status: number; retryAfter: unknown; body: unknown } | null = null;
    let health = 0;
    for (let round = 0; round < 20 && shed === null; round++) {
      block(400);
      await new Promise((resolve) => setTimeout(resolve, 5));
      const [page, probe] = await Promise.all([server.inject("/trpc/catalog.list"), server.inject("/healthz")]);
      if (page.statusCode === 503) {
        shed = { status: page.statusCode, retryAfter: page.headers["retry-after"], body: page.json() };
        health = probe.statusCode;
      }
    }
    expect(shed).toMatchObject({ status: 503, retryAfter: "2", body: { error: { appCode: "server.busy" } } });
    expect(health).toBe(200);
    // Once the loop is free again, requests are served.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await server.inject("/trpc/catalog.list")).statusCode).toBe(200);
    const metrics = (await server.inject("/metrics")).body;
    expect(metrics).toMatch(/shuzang_http_shed_total [1-9]/);
  });

  it("reports each route's answers by status class and duration, tRPC by procedure", async () => {
    const server = await start({});
    await server.inject("/trpc/catalog.list");
    await server.inject("/trpc/catalog.get?input=%7B%22collectionId%22%3A999%7D");
    await server.inject("/no/such/page/at/all");
    const metrics = (await server.inject("/metrics")).body;
    expect(metrics).toMatch(
      /shuzang_http_request_duration_seconds_count\{method="GET",route="\/trpc\/catalog\.list",status="2xx"\} 1/,
    );
    expect(metrics).toMatch(
      /shuzang_http_request_duration_seconds_count\{method="GET",route="\/trpc\/catalog\.get",status="4xx"\} 1/,
    );
    expect(metrics).not.toContain("/no/such/page");
  });
});
