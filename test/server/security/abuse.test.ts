import { TRPCError } from "@trpc/server";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";

import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE, buildHttpApp } from "../../../server/http/app.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  login,
  newPhone,
  pngBytes,
  promote,
  waitForResend,
} from "../helpers.js";
import { recordFigures } from "../reliability-report.js";

/**
 * Abuse of the front door: guessing login codes (also in parallel, from many
 * addresses), flooding SMS, fixing a session before login, forging requests
 * from another site, and uploads that lie. What `auth.test.ts`, `http.test.ts`
 * and `publish.test.ts` already show is not repeated here.
 */
const figures: Record<string, unknown> = {};

/** The app code of a refusal, or "ok". */
const outcomeOf = (action: Promise<unknown>) =>
  action.then(
    () => "ok",
    (error: unknown) => (error instanceof TRPCError ? error.message : String(error)),
  );

function tally(outcomes: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome] = (counts[outcome] ?? 0) + 1;
  return counts;
}

/** Six-digit codes other than `code`. */
const wrongCodes = (code: string, n: number) =>
  Array.from({ length: n }, (_, i) => String((Number(code) + 1 + i) % 1_000_000).padStart(6, "0"));

for (const database of databasesUnderTest()) {
  describe(`login brute force and SMS flooding (${database.name})`, () => {
    let test: TestPlatform;

    afterEach(async () => {
      await test.close();
    });

    it("counts every wrong code of a parallel burst: four are answered, then the number locks and the right code is refused", async () => {
      test = await createTestPlatform(database);
      const phone = newPhone();
      await (await callerFor(test.platform)).caller.auth.requestCode({ phone });
      const code = test.codes.get(phone)!;
      // Forty guesses at once, each from its own address, so no per-address limit stops them first.
      const answers = await Promise.all(
        wrongCodes(code, 40).map(async (guess, i) => {
          const { caller } = await callerFor(test.platform, { ip: `10.20.${i}.1` });
          return caller.auth.login({ phone, code: guess }).then(
            () => "ok",
            (error: TRPCError) => {
              const left = (error.cause as { params?: { attemptsLeft?: number } } | undefined)?.params?.attemptsLeft;
              return left === undefined ? error.message : `${error.message}:${left}`;
            },
          );
        }),
      );
      const counts = tally(answers);
      expect(counts).toEqual({
        "auth.code.wrong:4": 1,
        "auth.code.wrong:3": 1,
        "auth.code.wrong:2": 1,
        "auth.code.wrong:1": 1,
        "auth.locked": 36,
      });
      const { caller } = await callerFor(test.platform, { ip: "10.20.99.1" });
      await expectAppError(caller.auth.login({ phone, code }), "auth.locked", "TOO_MANY_REQUESTS");
      if (database.name === "pglite") {
        figures.parallel_wrong_codes = 40;
        figures.parallel_wrong_codes_judged_before_lock =
          answers.filter((a) => a.startsWith("auth.code.wrong")).length + 1;
        figures.right_code_after_burst_accepted = false;
      }
    });

    it("spends a code once when three logins race with it", async () => {
      test = await createTestPlatform(database);
      const phone = newPhone();
      await (await callerFor(test.platform)).caller.auth.requestCode({ phone });
      const code = test.codes.get(phone)!;
      const outcomes = await Promise.all(
        [1, 2, 3].map(async () => outcomeOf((await callerFor(test.platform)).caller.auth.login({ phone, code }))),
      );
      expect(tally(outcomes)).toEqual({ ok: 1, "auth.code.expired": 2 });
      if (database.name === "pglite") figures.sessions_from_one_code_raced_three_times = 1;
    });

    it("keeps counting wrong codes across a new code, so asking for another buys no extra guesses", async () => {
      test = await createTestPlatform(database);
      const phone = newPhone();
      const { caller } = await callerFor(test.platform);
      await caller.auth.requestCode({ phone });
      for (const guess of wrongCodes(test.codes.get(phone)!, 4)) {
        await expectAppError(caller.auth.login({ phone, code: guess }), "auth.code.wrong");
      }
      await waitForResend();
      await caller.auth.requestCode({ phone });
      const fresh = test.codes.get(phone)!;
      await expectAppError(caller.auth.login({ phone, code: wrongCodes(fresh, 1)[0]! }), "auth.locked");
      await expectAppError(caller.auth.login({ phone, code: fresh }), "auth.locked");
    });

    it("limits login attempts per address across numbers", async () => {
      test = await createTestPlatform(database, { env: { LOGIN_ATTEMPTS_PER_IP_15MIN: "5" } });
      const { caller: guesser } = await callerFor(test.platform, { ip: "10.30.0.1" });
      const outcomes: string[] = [];
      for (let i = 0; i < 8; i++)
        outcomes.push(await outcomeOf(guesser.auth.login({ phone: newPhone(), code: "123456" })));
      // Numbers nobody asked a code for: the first five are judged, the rest refused at the address.
      expect(outcomes).toEqual([...Array(5).fill("auth.code.expired"), ...Array(3).fill("auth.rateLimited")]);
      const { caller: someoneElse } = await callerFor(test.platform, { ip: "10.30.0.2" });
      expect(await outcomeOf(someoneElse.auth.login({ phone: newPhone(), code: "123456" }))).toBe("auth.code.expired");
      if (database.name === "pglite") figures.login_attempts_per_ip_before_refusal = 5;
    });

    it("sends one code per number per interval whatever the address, and a day's limit per number", async () => {
      test = await createTestPlatform(database, { env: { OTP_DAILY_LIMIT_PER_PHONE: "2" } });
      const phone = newPhone();
      const fromMany = await Promise.all(
        Array.from({ length: 20 }, async (_, i) =>
          outcomeOf((await callerFor(test.platform, { ip: `10.40.${i}.1` })).caller.auth.requestCode({ phone })),
        ),
      );
      expect(tally(fromMany)).toEqual({ ok: 1, "auth.rateLimited": 19 });
      await waitForResend();
      const { caller } = await callerFor(test.platform, { ip: "10.40.99.1" });
      await caller.auth.requestCode({ phone });
      await waitForResend();
      await expectAppError(caller.auth.requestCode({ phone }), "auth.rateLimited", "TOO_MANY_REQUESTS");
      if (database.name === "pglite") {
        figures.sms_flood_one_number_from_20_addresses = tally(fromMany);
        figures.sms_per_number_per_day = 2;
      }
    });

    it("stops an SMS flood from one address at its hourly limit", async () => {
      // The production default (30 an hour); the shared helper raises it for other files.
      test = await createTestPlatform(database, { env: { OTP_HOURLY_LIMIT_PER_IP: "30" } });
      const { caller } = await callerFor(test.platform, { ip: "10.50.0.1" });
      const outcomes: string[] = [];
      for (let i = 0; i < 100; i++) outcomes.push(await outcomeOf(caller.auth.requestCode({ phone: newPhone() })));
      expect(tally(outcomes)).toEqual({ ok: 30, "auth.rateLimited": 70 });
      expect(test.codes.size).toBe(30);
      if (database.name === "pglite") figures.sms_flood_100_numbers_from_one_address = tally(outcomes);
    });
  });
}

describe("sessions, forged requests, headers and uploads over HTTP", () => {
  let test: TestPlatform;
  let app: FastifyInstance;

  beforeEach(async () => {
    test = await createTestPlatform(databasesUnderTest()[0]!, { env: { MEDIA_MAX_BYTES: "4096" } });
    app = await buildHttpApp(test.platform, { logger: false });
  });
  afterEach(async () => {
    await app.close();
    await test.close();
  });

  const cookieOf = (response: { cookies: { name: string; value: string }[] }, name: string) =>
    response.cookies.find((c) => c.name === name)?.value;

  async function httpLogin(phone: string, cookie: string) {
    const headers = { cookie, [CSRF_HEADER]: "csrf-value", "content-type": "application/json" };
    await app.inject({ method: "POST", url: "/trpc/auth.requestCode", headers, payload: JSON.stringify({ phone }) });
    return app.inject({
      method: "POST",
      url: "/trpc/auth.login",
      headers,
      payload: JSON.stringify({ phone, code: test.codes.get(phone) }),
    });
  }

  it("never keeps a session planted before login: a made-up one is ignored, an attacker's own is ended", async () => {
    const madeUp = "a".repeat(43);
    const victim = newPhone();
    const first = await httpLogin(victim, `${CSRF_COOKIE}=csrf-value; ${SESSION_COOKIE}=${madeUp}`);
    expect(first.statusCode).toBe(200);
    const issued = cookieOf(first, SESSION_COOKIE)!;
    expect(issued).toMatch(/^[\w-]{43}$/);
    expect(issued).not.toBe(madeUp);
    expect(await test.platform.identity.resolveSession(test.platform.db, madeUp)).toBeNull();

    // The attacker logs in, then plants their own session cookie in the victim's browser.
    const attacker = await login(test);
    const second = await httpLogin(newPhone(), `${CSRF_COOKIE}=csrf-value; ${SESSION_COOKIE}=${attacker.token}`);
    expect(second.statusCode).toBe(200);
    expect(cookieOf(second, SESSION_COOKIE)).not.toBe(attacker.token);
    // The planted session was ended at the victim's login, so it cannot watch the victim's account either.
    expect(await test.platform.identity.resolveSession(test.platform.db, attacker.token)).toBeNull();
    figures.planted_session_survives_login = false;
  });

  it("refuses what another site can send: a mutation as GET, a form post, a header that does not match", async () => {
    const phone = newPhone();
    const attempts = [
      app.inject({
        method: "GET",
        url: `/trpc/auth.requestCode?input=${encodeURIComponent(JSON.stringify({ phone }))}`,
      }),
      app.inject({
        method: "POST",
        url: "/trpc/auth.requestCode",
        headers: { cookie: `${CSRF_COOKIE}=t1`, "content-type": "application/x-www-form-urlencoded" },
        payload: `phone=${phone}`,
      }),
      app.inject({
        method: "POST",
        url: "/trpc/auth.requestCode",
        headers: { cookie: `${CSRF_COOKIE}=t1`, "content-type": "text/plain" },
        payload: JSON.stringify({ phone }),
      }),
      app.inject({
        method: "POST",
        url: "/trpc/auth.requestCode",
        headers: { [CSRF_HEADER]: "t1", "content-type": "application/json" },
        payload: JSON.stringify({ phone }),
      }),
    ];
    const statuses = (await Promise.all(attempts)).map((r) => r.statusCode);
    for (const status of statuses) expect([403, 405, 415]).toContain(status);
    expect(test.codes.has(phone)).toBe(false);
    figures.cross_site_requests = statuses.length;
    figures.cross_site_requests_refused = statuses.filter((status) => status >= 400).length;
  });

  it("sends the security headers on every kind of answer", async () => {
    const staff = await login(test);
    const issuerId = await promote(test.platform, staff.user.id, "issuer_staff");
    const { sha256 } = await test.platform.catalog.registerMedia(test.platform.db, issuerId!, pngBytes());
    const answers = {
      api: await app.inject("/trpc/catalog.list"),
      refusal: await app.inject("/trpc/audit.recent"),
      notFound: await app.inject("/nowhere"),
      media: await app.inject({ url: `/media/${sha256}`, headers: { cookie: `${SESSION_COOKIE}=${staff.token}` } }),
      plainRoute: await app.inject("/api/ping"),
      metrics: await app.inject("/metrics"),
    };
    const missing: string[] = [];
    for (const [kind, response] of Object.entries(answers)) {
      const csp = String(response.headers["content-security-policy"] ?? "");
      if (!csp.includes("default-src 'self'")) missing.push(`${kind}: csp`);
      if (!csp.includes("frame-ancestors 'none'")) missing.push(`${kind}: frame-ancestors`);
      if (response.headers["x-frame-options"] === undefined) missing.push(`${kind}: x-frame-options`);
      if (response.headers["referrer-policy"] !== "strict-origin-when-cross-origin") missing.push(`${kind}: referrer`);
      if (response.headers["x-content-type-options"] !== "nosniff") missing.push(`${kind}: nosniff`);
    }
    expect(answers.media.statusCode).toBe(200);
    expect(missing).toEqual([]);
    figures.security_headers_checked_on = Object.keys(answers).length;
    figures.security_headers_missing = missing.length;
  });

  it("stores a file that is an image and a page at once as an image, and serves it so no browser runs it", async () => {
    const staff = await login(test);
    await promote(test.platform, staff.user.id, "issuer_staff");
    const headers = { cookie: `${SESSION_COOKIE}=${staff.token}; ${CSRF_COOKIE}=c`, [CSRF_HEADER]: "c" };
    const polyglot = Buffer.concat([pngBytes(), Buffer.from("<html><script>alert(document.cookie)</script></html>")]);
    const uploaded = await app.inject({
      method: "POST",
      url: "/media",
      headers: { ...headers, "content-type": "text/html" },
      payload: polyglot,
    });
    expect(uploaded.json()).toMatchObject({ mimeType: "image/png" });
    const served = await app.inject({ url: `/media/${uploaded.json().sha256}`, headers });
    expect(served.headers["content-type"]).toBe("image/png");
    expect(served.headers["x-content-type-options"]).toBe("nosniff");

    const empty = await app.inject({ method: "POST", url: "/media", headers, payload: Buffer.alloc(0) });
    expect(empty.statusCode).toBe(415);
    const collector = await login(test);
    const notStaff = await app.inject({
      method: "POST",
      url: "/media",
      headers: { ...headers, cookie: `${SESSION_COOKIE}=${collector.token}; ${CSRF_COOKIE}=c` },
      payload: pngBytes(),
    });
    expect(notStaff.statusCode).toBe(403);
    const justOver = await app.inject({ method: "POST", url: "/media", headers, payload: Buffer.alloc(4097, 0x89) });
    expect(justOver.statusCode).toBe(413);
    figures.upload_refusals = {
      empty: empty.statusCode,
      not_staff: notStaff.statusCode,
      over_limit: justOver.statusCode,
    };
  });
});

afterAll(() => {
  if (Object.keys(figures).length > 0) recordFigures("abuse_limits", figures);
});
