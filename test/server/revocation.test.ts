import { randomBytes } from "node:crypto";

import { Mnemonic } from "ethers";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { openDatabase } from "../../server/db/client.js";
import { buildHttpApp } from "../../server/http/app.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  freshPostgresDatabase,
  login,
  publishedCollection,
  redisAnswers,
  stepUp,
  verifiedCollector,
  waitForResend,
} from "./helpers.js";

/**
 * A session that ends — logout, "end this session" from another device, idle or absolute expiry, an erasure
 * request — is refused from the very next request on, on every route: the flash-sale door (drops.reserve)
 * included, and on every API instance. Sessions are resolved from the database on each request (a crowd's
 * lookups share one query per batch), never remembered by an instance, so there is nothing to invalidate.
 */

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/9";
const MINUTE = 60_000;
const key = () => `k-${randomBytes(6).toString("hex")}`;

/** POST /trpc/drops.reserve as the storefront sends it, with `token`'s session cookie. */
function reserveOn(app: FastifyInstance, token: string, collectionId: number) {
  return app.inject({
    method: "POST",
    url: "/trpc/drops.reserve",
    headers: { cookie: `csrf=t0k3n; sid=${token}`, "x-csrf-token": "t0k3n", "content-type": "application/json" },
    payload: JSON.stringify({ collectionId, quantity: 1, idempotencyKey: key() }),
  });
}

/** The logout the storefront sends, over HTTP. */
function logoutOn(app: FastifyInstance, token: string) {
  return app.inject({
    method: "POST",
    url: "/trpc/auth.logout",
    headers: { cookie: `csrf=t0k3n; sid=${token}`, "x-csrf-token": "t0k3n", "content-type": "application/json" },
    payload: "{}",
  });
}

const refusedAsLoggedOut = (answer: { statusCode: number; json(): { error: { data: { appCode: string } } } }) => {
  expect(answer.statusCode).toBe(401);
  expect(answer.json().error.data.appCode).toBe("auth.required");
};

for (const database of databasesUnderTest()) {
  describe(`immediate revocation on the reservation route (${database.name})`, () => {
    let test: TestPlatform;
    let app: FastifyInstance;
    beforeEach(async () => {
      test = await createTestPlatform(database, { env: { RESERVE_ATTEMPTS_PER_MINUTE: "1000" } });
      app = await buildHttpApp(test.platform, { logger: false });
    });
    afterEach(async () => {
      await app.close();
      await test.close();
    });

    it("refuses the very next reservation after a logout over HTTP", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 5 });
      const buyer = await verifiedCollector(test);
      expect((await reserveOn(app, buyer.token, collection.id)).statusCode).toBe(200);
      expect((await logoutOn(app, buyer.token)).statusCode).toBe(200);
      refusedAsLoggedOut(await reserveOn(app, buyer.token, collection.id));
    });

    it("refuses a session ended from another device, at once", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 5 });
      const buyer = await verifiedCollector(test);
      await waitForResend();
      const phone = await login(test, buyer.phone);
      expect((await reserveOn(app, buyer.token, collection.id)).statusCode).toBe(200);
      await phone.caller.auth.revokeSession({ sessionId: test.platform.identity.sessionIdOf(buyer.token) });
      refusedAsLoggedOut(await reserveOn(app, buyer.token, collection.id));
      // The other device's session lives on.
      expect((await phone.caller.auth.me())?.id).toBe(buyer.user.id);
    });

    it("refuses a session at its idle limit and at its absolute lifetime, from the next request on", async () => {
      const collection = await publishedCollection(test, {
        editionSize: 20,
        perPersonLimit: 10,
        endsInMs: 30 * 86_400_000,
      });
      const idle = await verifiedCollector(test);
      expect((await reserveOn(app, idle.token, collection.id)).statusCode).toBe(200);
      test.clock.advance(24 * 60 * MINUTE); // a collector's idle limit (SESSION_IDLE_MINUTES)
      refusedAsLoggedOut(await reserveOn(app, idle.token, collection.id));

      const busy = await verifiedCollector(test);
      for (let day = 0; day < 7; day++) {
        test.clock.advance(23 * 60 * MINUTE);
        expect((await reserveOn(app, busy.token, collection.id)).statusCode, `day ${day}`).not.toBe(401);
      }
      test.clock.advance(23 * 60 * MINUTE); // 184 hours: past the 7 days of SESSION_TTL_DAYS, however busy
      refusedAsLoggedOut(await reserveOn(app, busy.token, collection.id));
    });

    it("refuses every session of an account that asked to be erased, at once", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 5 });
      const buyer = await verifiedCollector(test);
      expect((await reserveOn(app, buyer.token, collection.id)).statusCode).toBe(200);
      const { caller } = await callerFor(test.platform, { token: buyer.token });
      await caller.privacy.requestErasure();
      refusedAsLoggedOut(await reserveOn(app, buyer.token, collection.id));
    });

    it("ends a step-up grant with the session: the grant does not outlive a logout", async () => {
      const buyer = await verifiedCollector(test);
      await stepUp(test, buyer.caller, "export");
      expect((await logoutOn(app, buyer.token)).statusCode).toBe(200);
      const exported = await app.inject({
        method: "POST",
        url: "/trpc/privacy.exportMyData",
        headers: {
          cookie: `csrf=t0k3n; sid=${buyer.token}`,
          "x-csrf-token": "t0k3n",
          "content-type": "application/json",
        },
        payload: "{}",
      });
      refusedAsLoggedOut(exported);
    });
  });
}

const postgres = databasesUnderTest().find((d) => d.name === "postgres");
const withRedis = await redisAnswers(REDIS_URL);

describe.skipIf(postgres === undefined)("immediate revocation across two API instances (PostgreSQL)", () => {
  let shared: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let first: TestPlatform;
  let second: TestPlatform;
  let appA: FastifyInstance;
  let appB: FastifyInstance;

  beforeAll(async () => {
    shared = await freshPostgresDatabase(process.env.DATABASE_URL!, "shuzang_revoke");
    // The gate's keys are per collection id and holder id, which a fresh database hands out again: start from
    // an empty Redis (the suite's own database, as flash-gate.test.ts does) so nothing earlier answers here.
    if (withRedis) await redisAnswers(REDIS_URL, { flush: true });
    // Two instances as in production: their own processes' services and pools, one database (and one Redis
    // for the admission gate and the limits, when there is one).
    // One deployment's secrets on both (the session ids are keyed hashes of the cookie with LOOKUP_PEPPER).
    const env = {
      RESERVE_ATTEMPTS_PER_MINUTE: "1000",
      PII_KEYS: `t1:${randomBytes(32).toString("base64")}`,
      IDENTITY_PEPPER: randomBytes(32).toString("hex"),
      LOOKUP_PEPPER: randomBytes(32).toString("hex"),
      WALLET_MNEMONIC: Mnemonic.fromEntropy(randomBytes(16)).phrase,
      ...(withRedis ? { REDIS_URL } : {}),
    };
    const sameDatabase = { name: "postgres" as const, open: () => openDatabase({ url: shared.url, poolSize: 5 }) };
    first = await createTestPlatform(sameDatabase, { env });
    second = await createTestPlatform(sameDatabase, { env });
    appA = await buildHttpApp(first.platform, { logger: false });
    appB = await buildHttpApp(second.platform, { logger: false });
  });
  afterAll(async () => {
    await appA?.close();
    await appB?.close();
    await first?.close();
    await second?.close();
    await shared?.close();
  });

  it("refuses on instance B the very next reservation after a logout on instance A", async () => {
    const collection = await publishedCollection(first, { editionSize: 10, perPersonLimit: 5 });
    const buyer = await verifiedCollector(first);
    // Instance B has served this session (anything it might keep, it now has).
    expect((await reserveOn(appB, buyer.token, collection.id)).statusCode).toBe(200);
    expect((await logoutOn(appA, buyer.token)).statusCode).toBe(200);
    refusedAsLoggedOut(await reserveOn(appB, buyer.token, collection.id));
    refusedAsLoggedOut(await reserveOn(appA, buyer.token, collection.id));
  });

  it("refuses on instance B a session ended from another device through instance A", async () => {
    const collection = await publishedCollection(first, { editionSize: 10, perPersonLimit: 5 });
    const buyer = await verifiedCollector(first);
    await waitForResend();
    const other = await login(first, buyer.phone);
    expect((await reserveOn(appB, buyer.token, collection.id)).statusCode).toBe(200);
    const revoked = await appA.inject({
      method: "POST",
      url: "/trpc/auth.revokeSession",
      headers: {
        cookie: `csrf=t0k3n; sid=${other.token}`,
        "x-csrf-token": "t0k3n",
        "content-type": "application/json",
      },
      payload: JSON.stringify({ sessionId: first.platform.identity.sessionIdOf(buyer.token) }),
    });
    expect(revoked.statusCode).toBe(200);
    refusedAsLoggedOut(await reserveOn(appB, buyer.token, collection.id));
  });
});
