import { Writable } from "node:stream";

import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, buildHttpApp } from "../../server/http/app.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  login,
  makeIdNumber,
  newPhone,
  publishedCollection,
} from "./helpers.js";

const [pglite] = databasesUnderTest();

/** A minimal browser: keeps cookies and echoes the CSRF cookie on mutations. */
class Browser {
  cookies = new Map<string, string>();
  constructor(private readonly app: FastifyInstance) {}

  private remember(response: LightMyRequestResponse) {
    for (const cookie of response.cookies) {
      if (cookie.value === "" || (cookie.maxAge !== undefined && cookie.maxAge <= 0)) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  private cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async query(path: string, input?: unknown) {
    const search = input === undefined ? "" : `?input=${encodeURIComponent(JSON.stringify(input))}`;
    return this.remember(
      await this.app.inject({ method: "GET", url: `/trpc/${path}${search}`, headers: { cookie: this.cookieHeader() } }),
    );
  }

  async mutate(path: string, input: unknown, options: { csrf?: boolean } = {}) {
    const headers: Record<string, string> = { cookie: this.cookieHeader(), "content-type": "application/json" };
    if (options.csrf !== false) headers[CSRF_HEADER] = this.cookies.get(CSRF_COOKIE) ?? "";
    return this.remember(
      await this.app.inject({ method: "POST", url: `/trpc/${path}`, headers, payload: JSON.stringify(input) }),
    );
  }
}

describe("HTTP host", () => {
  let test: TestPlatform;
  let app: FastifyInstance;
  let logs: string[];

  beforeEach(async () => {
    test = await createTestPlatform(pglite!);
    logs = [];
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        logs.push(String(chunk));
        callback();
      },
    });
    app = await buildHttpApp(test.platform, { logger: { level: "info", stream } });
  });
  afterEach(async () => {
    await app.close();
    await test.close();
  });

  async function loggedIn() {
    const browser = new Browser(app);
    await browser.query("auth.me");
    const phone = newPhone();
    expect((await browser.mutate("auth.requestCode", { phone })).statusCode).toBe(200);
    const response = await browser.mutate("auth.login", { phone, code: test.codes.get(phone) });
    expect(response.statusCode).toBe(200);
    return { browser, phone, response };
  }

  /** Confirms a step-up for `purpose` over HTTP, as the storefront does. */
  async function stepUpOver(browser: Browser, phone: string, purpose: string) {
    expect((await browser.mutate("auth.requestStepUp", { purpose })).statusCode).toBe(200);
    const confirmed = await browser.mutate("auth.confirmStepUp", { purpose, code: test.codes.get(phone) });
    expect(confirmed.statusCode).toBe(200);
  }

  it("answers liveness, and readiness only when the database and the chain answer", async () => {
    expect((await app.inject("/healthz")).json()).toEqual({ status: "ok" });
    const ready = await app.inject("/readyz");
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: "not-ready", database: true, chain: false });
  });

  it("serves /metrics only to the scraper's bearer token when METRICS_TOKEN is set", async () => {
    expect((await app.inject("/metrics")).statusCode).toBe(200); // no token configured: internal network only
    const token = "scraper-secret-0123456789";
    const guarded = await createTestPlatform(pglite!, { env: { METRICS_TOKEN: token } });
    const guardedApp = await buildHttpApp(guarded.platform, { logger: false });
    try {
      const anonymous = await guardedApp.inject("/metrics");
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.headers["www-authenticate"]).toBe("Bearer");
      expect(anonymous.body).not.toContain("# HELP");
      const wrong = await guardedApp.inject({ url: "/metrics", headers: { authorization: `Bearer ${token}x` } });
      expect(wrong.statusCode).toBe(401);
      const scraper = await guardedApp.inject({ url: "/metrics", headers: { authorization: `Bearer ${token}` } });
      expect(scraper.statusCode).toBe(200);
      expect(scraper.body).toContain("# HELP");
    } finally {
      await guardedApp.close();
      await guarded.close();
    }
  });

  it("has the benchmark's echo route only when BENCH_ECHO_ROUTE is set, and it answers the body back", async () => {
    const body = JSON.stringify({ collectionId: 7, quantity: 1, idempotencyKey: "k-1" });
    const post = (target: FastifyInstance) =>
      target.inject({ method: "POST", url: "/api/bench/echo", headers: { "content-type": "application/json" }, body });
    expect((await post(app)).statusCode).toBe(404);
    const bench = await createTestPlatform(pglite!, { env: { BENCH_ECHO_ROUTE: "true" } });
    const benchApp = await buildHttpApp(bench.platform, { logger: false });
    try {
      const echoed = await post(benchApp);
      expect(echoed.statusCode).toBe(200);
      expect(echoed.json()).toEqual({ echo: JSON.parse(body) });
      // The same stack as every route: security headers and the CSRF cookie on the answer.
      expect(echoed.headers["x-content-type-options"]).toBe("nosniff");
      expect(echoed.cookies.map((cookie) => cookie.name)).toContain(CSRF_COOKIE);
      const notJson = await benchApp.inject({
        method: "POST",
        url: "/api/bench/echo",
        headers: { "content-type": "application/json" },
        body: "{",
      });
      expect(notJson.statusCode).toBe(400);
    } finally {
      await benchApp.close();
      await bench.close();
    }
  });

  it("sends security headers and a request id", async () => {
    const response = await app.inject("/healthz");
    expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(response.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
    expect(response.headers["x-frame-options"]).toBe("SAMEORIGIN");
    expect(response.headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    expect(response.headers["x-content-type-options"]).toBe("nosniff");
    expect(response.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("logs in over HTTP with an httpOnly, SameSite session cookie", async () => {
    const { browser, response } = await loggedIn();
    const session = response.cookies.find((c) => c.name === SESSION_COOKIE)!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe("Lax");
    expect(session.path).toBe("/");
    const csrf = [...browser.cookies.keys()];
    expect(csrf).toContain(CSRF_COOKIE);
    const me = await browser.query("auth.me");
    expect(me.json().result.data.role).toBe("collector");
  });

  it("refuses a mutation without the CSRF header, and one whose header does not match the cookie", async () => {
    const browser = new Browser(app);
    await browser.query("auth.me");
    const phone = newPhone();
    const refused = await browser.mutate("auth.requestCode", { phone }, { csrf: false });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.data).toMatchObject({
      appCode: "auth.csrf",
      messages: { en: expect.any(String), zh: expect.any(String) },
    });
    const forged = await app.inject({
      method: "POST",
      url: "/trpc/auth.requestCode",
      headers: { cookie: `${CSRF_COOKIE}=a`, [CSRF_HEADER]: "b", "content-type": "application/json" },
      payload: JSON.stringify({ phone }),
    });
    expect(forged.statusCode).toBe(403);
    expect(test.codes.has(phone)).toBe(false);
  });

  it("answers bad input with 400 and field messages in Chinese and English", async () => {
    const browser = new Browser(app);
    await browser.query("auth.me");
    const response = await browser.mutate("auth.requestCode", { phone: "12345" });
    expect(response.statusCode).toBe(400);
    const { data, message } = response.json().error;
    expect(message).toBe("input.invalid");
    expect(data.fieldErrors.phone).toEqual([
      {
        code: "auth.phone.invalid",
        zh: "请输入有效的中国大陆手机号码",
        en: "Enter a valid mainland China mobile number",
      },
    ]);
    expect(data.stack).toBeUndefined();
    const missing = await browser.mutate("auth.requestCode", {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error.data.fieldErrors.phone[0].code).toBe("input.invalid_type");
    expect(missing.json().error.data.fieldErrors.phone[0].zh).toMatch(/无效输入/);
  });

  it("answers refusals with their precise code, class and translated message", async () => {
    const { browser, phone } = await loggedIn();
    const refused = await browser.mutate("kyc.submit", { name: "张晓明", idNumber: makeIdNumber("20081125") });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error).toMatchObject({
      message: "auth.stepUpRequired",
      data: { appCode: "auth.stepUpRequired", params: { purpose: "kyc" }, messages: { zh: expect.any(String) } },
    });
    await stepUpOver(browser, phone, "kyc");
    const response = await browser.mutate("kyc.submit", { name: "张晓明", idNumber: makeIdNumber("20081125") });
    expect(response.statusCode).toBe(403);
    expect(response.json().error).toMatchObject({
      message: "kyc.underage",
      data: { appCode: "kyc.underage", params: { minAge: 18 }, messages: { zh: expect.stringContaining("未成年人") } },
    });
  });

  it("batches queries in one request", async () => {
    const { browser } = await loggedIn();
    const response = await app.inject({
      method: "GET",
      url: `/trpc/auth.me,kyc.status?batch=1&input=${encodeURIComponent("{}")}`,
      headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    expect(response.statusCode).toBe(200);
    const [me, status] = response.json();
    expect(me.result.data.role).toBe("collector");
    expect(status.result.data).toEqual({ state: "unverified" });
  });

  it("answers an unexpected failure with a generic message and logs it with the request id", async () => {
    const { browser } = await loggedIn();
    await test.platform.database.close();
    const response = await browser.query("kyc.status");
    expect(response.statusCode).toBe(500);
    expect(response.json().error.message).toBe("internal");
    expect(JSON.stringify(response.json())).not.toMatch(/stack|pglite|closed/i);
    const requestId = response.headers["x-request-id"];
    expect(logs.some((line) => line.includes('"level":50') && line.includes(String(requestId)))).toBe(true);
    test = await createTestPlatform(pglite!); // afterEach closes a live one
  });

  it("logs one line per request, once answered: method, path without its query, status, time, request id", async () => {
    const response = await app.inject({ method: "GET", url: "/healthz?probe=1" });
    const requestId = String(response.headers["x-request-id"]);
    const lines = logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((l) => l.reqId === requestId);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      msg: "request completed",
      level: 30,
      req: { method: "GET", path: "/healthz" },
      res: { statusCode: 200 },
    });
    expect(typeof lines[0]!.responseTime).toBe("number");
  });

  it("never writes personal data to the log", async () => {
    const { browser, phone } = await loggedIn();
    const idNumber = makeIdNumber("19900307");
    await stepUpOver(browser, phone, "kyc");
    expect((await browser.mutate("kyc.submit", { name: "张晓明", idNumber })).statusCode).toBe(200);
    await browser.query("auth.me", undefined);
    const text = logs.join("");
    expect(text).toContain("reqId");
    const tokens = [browser.cookies.get(SESSION_COOKIE)!, browser.cookies.get(CSRF_COOKIE)!];
    for (const secret of [phone, idNumber, "张晓明", ...tokens]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe("serving the built web app", () => {
  it("serves the web build's files, and index.html for client-side routes, without shadowing the API", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const dir = mkdtempSync(path.join(tmpdir(), "shuzang-web-"));
    writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>数藏</title>");
    writeFileSync(path.join(dir, "app.js"), "console.log('app')");
    const test = await createTestPlatform(pglite!, { env: { WEB_DIST_DIR: dir } });
    const app = await buildHttpApp(test.platform, { logger: false });
    try {
      expect((await app.inject("/")).body).toContain("<title>数藏</title>");
      expect((await app.inject("/app.js")).headers["content-type"]).toContain("javascript");
      const route = await app.inject({ url: "/collections/12", headers: { accept: "text/html" } });
      expect(route.body).toContain("<title>数藏</title>");
      expect((await app.inject("/healthz")).json()).toEqual({ status: "ok" });
      expect((await app.inject({ url: "/trpc/nope", headers: { accept: "text/html" } })).statusCode).toBe(404);
    } finally {
      await app.close();
      await test.close();
    }
  });

  it("sends the build's brotli or gzip copy by Accept-Encoding, caches hashed assets for a year and revalidates index.html", async () => {
    const { mkdirSync, mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } = await import("node:zlib");
    const dir = mkdtempSync(path.join(tmpdir(), "shuzang-web-"));
    mkdirSync(path.join(dir, "assets"));
    const script = `export const words = ${JSON.stringify("数字藏品 ".repeat(500))};`;
    const asset = path.join(dir, "assets", "index-AbC_9-xY.js");
    writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>数藏</title>");
    writeFileSync(asset, script);
    writeFileSync(`${asset}.br`, brotliCompressSync(script));
    writeFileSync(`${asset}.gz`, gzipSync(script));
    const test = await createTestPlatform(pglite!, { env: { WEB_DIST_DIR: dir } });
    const app = await buildHttpApp(test.platform, { logger: false });
    try {
      const url = "/assets/index-AbC_9-xY.js";
      const br = await app.inject({ url, headers: { "accept-encoding": "gzip, deflate, br" } });
      expect(br.headers["content-encoding"]).toBe("br");
      expect(br.headers["content-type"]).toContain("javascript");
      expect(br.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(brotliDecompressSync(br.rawPayload).toString()).toBe(script);
      expect(br.rawPayload.length).toBeLessThan(Buffer.byteLength(script) / 10);
      const gzip = await app.inject({ url, headers: { "accept-encoding": "gzip, deflate" } });
      expect(gzip.headers["content-encoding"]).toBe("gzip");
      expect(gunzipSync(gzip.rawPayload).toString()).toBe(script);
      const plain = await app.inject({ url, headers: { "accept-encoding": "identity" } });
      expect(plain.headers["content-encoding"]).toBeUndefined();
      expect(plain.body).toBe(script);
      for (const page of ["/", "/c/3"]) {
        const html = await app.inject({ url: page, headers: { accept: "text/html" } });
        expect(html.headers["cache-control"], page).toBe("no-cache");
      }
    } finally {
      await app.close();
      await test.close();
    }
  });
  it("names a storefront page's artwork, its code and its public data in the HTML it sends", async () => {
    const { mkdirSync, mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { brotliDecompressSync } = await import("node:zlib");
    const { eq } = await import("drizzle-orm");
    const { collections } = await import("../../server/db/schema.js");
    const dir = mkdtempSync(path.join(tmpdir(), "shuzang-web-"));
    mkdirSync(path.join(dir, ".vite"));
    writeFileSync(
      path.join(dir, "index.html"),
      '<!doctype html>\n<html>\n  <head>\n    <title>数藏</title>\n  </head>\n  <body><div id="root"></div></body>\n</html>\n',
    );
    // Vite's manifest: the entry and its shared chunk, and each page's chunk with a chunk of its own.
    const manifest = {
      "index.html": { file: "assets/index-AAAAAAAA.js", isEntry: true, imports: ["_react-BBBBBBBB.js"] },
      "_react-BBBBBBBB.js": { file: "assets/react-BBBBBBBB.js" },
      "_MediaView-CCCCCCCC.js": { file: "assets/MediaView-CCCCCCCC.js", imports: ["_react-BBBBBBBB.js"] },
      "src/features/home/HomePage.tsx": { file: "assets/HomePage-DDDDDDDD.js", imports: ["_MediaView-CCCCCCCC.js"] },
      "src/features/collection/CollectionPage.tsx": {
        file: "assets/CollectionPage-EEEEEEEE.js",
        imports: ["_react-BBBBBBBB.js", "_MediaView-CCCCCCCC.js"],
      },
      "src/features/collectibles/CertificatePage.tsx": { file: "assets/CertificatePage-FFFFFFFF.js" },
    };
    writeFileSync(path.join(dir, ".vite", "manifest.json"), JSON.stringify(manifest));
    const test = await createTestPlatform(pglite!, { env: { WEB_DIST_DIR: dir } });
    const app = await buildHttpApp(test.platform, { logger: false });
    const page = async (url: string, cacheControl = "no-cache", cookie?: string) => {
      const reply = await app.inject({
        url,
        headers: { accept: "text/html", "accept-encoding": "gzip, br", ...(cookie === undefined ? {} : { cookie }) },
      });
      expect(reply.statusCode, url).toBe(200);
      expect(reply.headers["cache-control"], url).toBe(cacheControl);
      expect(reply.headers["content-encoding"], url).toBe("br");
      return brotliDecompressSync(reply.rawPayload).toString();
    };
    const initialData = (html: string) =>
      JSON.parse(/<script type="application\/json" id="initial-data">(.*?)<\/script>/.exec(html)![1]!) as Record<
        string,
        unknown
      >;
    const answer = async (url: string) => ((await app.inject(url)).json() as { result: { data: unknown } }).result.data;
    try {
      const collection = await publishedCollection(test);
      // A title that tries to end the embedded script: it stays text inside the JSON.
      const hostile = "</script><script>alert(1)</script><!--";
      await test.platform.db.update(collections).set({ title: hostile }).where(eq(collections.id, collection.id));
      const input = encodeURIComponent(JSON.stringify({ collectionId: collection.id }));
      const publicAnswer = await answer(`/trpc/catalog.get?input=${input}`);
      const artworkPreload =
        `<link rel="preload" as="image" type="image/avif" fetchpriority="high"` +
        ` imagesrcset="/media/${collection.mediaSha256}/8.avif 8w"`;

      const collectionPage = await page(`/c/${collection.id}`);
      expect(collectionPage).toContain(
        `${artworkPreload} imagesizes="(min-width: 1120px) 540px, (min-width: 860px) 50vw, 100vw">`,
      );
      // The page's chunks, except those the entry already loads.
      expect(collectionPage).toContain(
        '<link rel="modulepreload" crossorigin href="/assets/CollectionPage-EEEEEEEE.js">',
      );
      expect(collectionPage).toContain('<link rel="modulepreload" crossorigin href="/assets/MediaView-CCCCCCCC.js">');
      expect(collectionPage).not.toContain("react-BBBBBBBB");
      expect(collectionPage).not.toContain("</script><script>");
      expect(initialData(collectionPage)).toEqual({
        "catalog.get": { input: { collectionId: collection.id }, data: publicAnswer },
      });
      expect((publicAnswer as { title: string }).title).toBe(hostile);

      const home = await page("/");
      expect(home).toContain(`${artworkPreload} imagesizes="(min-width: 1120px) 270px, 50vw">`);
      expect(home).toContain('<link rel="modulepreload" crossorigin href="/assets/HomePage-DDDDDDDD.js">');
      expect(initialData(home)).toEqual({ "catalog.list": await answer("/trpc/catalog.list") });

      // The certificate: its artwork's public data and the visitor's login check, so the page is never stored;
      // never the holder's facts (those are fetched with the session).
      const certificate = await page(`/me/t/${collection.id}/1`, "private, no-store");
      expect(certificate).toContain(
        '<link rel="modulepreload" crossorigin href="/assets/CertificatePage-FFFFFFFF.js">',
      );
      expect(initialData(certificate)).toEqual({
        "catalog.get": { input: { collectionId: collection.id }, data: publicAnswer },
        "auth.me": null,
      });
      const collector = await login(test);
      const own = initialData(
        await page(`/me/t/${collection.id}/1`, "private, no-store", `${SESSION_COOKIE}=${collector.token}`),
      );
      expect(own["auth.me"]).toEqual(await collector.caller.auth.me());
      expect(Object.keys(own).sort()).toEqual(["auth.me", "catalog.get"]);

      // No such collection: the page without artwork or data (the page itself says it is not found).
      const missing = await page("/c/999999");
      expect(missing).not.toContain('rel="preload"');
      expect(initialData(missing)).toEqual({});
      // Other client-side routes get index.html as built.
      expect((await app.inject({ url: "/login", headers: { accept: "text/html" } })).body).not.toContain(
        "initial-data",
      );
    } finally {
      await app.close();
      await test.close();
    }
  });
});
