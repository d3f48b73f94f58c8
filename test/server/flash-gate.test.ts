import { randomBytes } from "node:crypto";

import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import { type AdmissionGate, createMemoryGate, createRedisGate } from "../../server/modules/drops/gate.js";
import {
  type TestPlatform,
  createTestPlatform,
  loggedInOperator,
  databasesUnderTest,
  login,
  publishedCollection,
  redisAnswers,
  verifiedCollector,
} from "./helpers.js";

/**
 * The flash-sale hot path: the admission gate (Redis, or memory without
 * REDIS_URL) and the plain reservation route. The gate only refuses early;
 * the database decides, so a gate that loses its state cannot oversell.
 */
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379/9";

const withRedis = await redisAnswers(REDIS_URL);

/** An attempt whose holder is its own key unless named, with a generous limit unless named. */
const at = (key: string, holder = key, limit = 100) => ({ key, holder, limit });

const gates: { name: string; make: () => AdmissionGate; skip: boolean }[] = [
  { name: "memory", make: createMemoryGate, skip: false },
  { name: "redis", make: () => createRedisGate(REDIS_URL), skip: !withRedis },
];

for (const kind of gates) {
  describe.skipIf(kind.skip)(`admission gate (${kind.name})`, () => {
    let gate: AdmissionGate;
    const collection = 1_000_000 + Math.floor(Math.random() * 1_000_000);
    beforeEach(async () => {
      gate = kind.make();
      await gate.reset(collection);
    });
    afterEach(async () => {
      await gate.reset(collection);
      await gate.close();
    });

    it("seeds from the database, admits until the counter is spent, then answers sold out", async () => {
      let taken = 0;
      let looks = 0;
      // The database's own count: 3 editions, less those the admitted attempts took.
      const availableInDb = async () => {
        looks++;
        return 3 - taken;
      };
      const answers = [];
      for (let i = 0; i < 6; i++) {
        const answer = await gate.admit(collection, 1, at(`a${i}`), availableInDb);
        if (answer === "admitted") taken++;
        answers.push(answer);
      }
      expect(answers).toEqual(["admitted", "admitted", "admitted", "soldOut", "soldOut", "soldOut"]);
      // One look to seed, one when it first says sold out; none for the crowd after that.
      expect(looks).toBe(2);
    });

    it("seeds once for a crowd that arrives together before the counter exists", async () => {
      let looks = 0;
      let taken = 0;
      const availableInDb = async () => {
        looks++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return 30 - taken;
      };
      const answers = await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const answer = await gate.admit(collection, 1, at(`crowd${i}`, `holder${i}`), availableInDb);
          if (answer === "admitted") taken++;
          return answer;
        }),
      );
      expect(answers.filter((answer) => answer === "admitted")).toHaveLength(30);
      expect(answers.filter((answer) => answer === "soldOut")).toHaveLength(20);
      // One count seeds the counter; the sold-out answers may look once more (at most once per second).
      expect(looks).toBeLessThanOrEqual(2);
    });

    it("knows a retry of an admitted or remembered attempt, which takes nothing more", async () => {
      const db = async () => 1;
      expect(await gate.admit(collection, 1, at("same"), db)).toBe("admitted");
      expect(await gate.admit(collection, 1, at("same"), db)).toBe("known");
      await gate.remember(collection, 1, at("made-without-gate"));
      expect(await gate.admit(collection, 1, at("made-without-gate"), db)).toBe("known");
      expect(await gate.admit(collection, 1, at("other"), async () => 0)).toBe("soldOut");
    });

    it("takes back what the database refused, once per attempt", async () => {
      const db = async () => 1;
      expect(await gate.admit(collection, 1, at("first"), db)).toBe("admitted");
      await gate.giveBack(collection, 1, at("first"));
      await gate.giveBack(collection, 1, at("first"));
      expect(await gate.admit(collection, 1, at("second"), async () => 0)).toBe("admitted");
      expect(await gate.admit(collection, 1, at("third"), async () => 0)).toBe("soldOut");
    });

    it("forgets an attempt the database found sold out, without giving its unit back to the counter", async () => {
      expect(await gate.admit(collection, 1, at("a", "alice", 1), async () => 2)).toBe("admitted");
      await gate.forget(collection, 1, at("a", "alice", 1));
      // Alice holds nothing after all, so she may try again; the counter still says one is left, not two.
      expect(await gate.admit(collection, 1, at("b", "alice", 1), async () => 0)).toBe("admitted");
      expect(await gate.admit(collection, 1, at("c", "carol", 1), async () => 0)).toBe("soldOut");
      // The forgotten attempt is not "known" any more: its retry is a new attempt, and nothing is left.
      expect(await gate.admit(collection, 1, at("a", "alice", 1), async () => 0)).toBe("soldOut");
    });

    it("refuses a holder over the limit early, and forgets the count when the database refused", async () => {
      const db = async () => 10;
      expect(await gate.admit(collection, 1, at("p1", "alice", 1), db)).toBe("admitted");
      expect(await gate.admit(collection, 1, at("p2", "alice", 1), db)).toBe("limitReached");
      expect(await gate.admit(collection, 1, at("p3", "bob", 1), db)).toBe("admitted");
      await gate.giveBack(collection, 1, at("p1", "alice", 1));
      expect(await gate.admit(collection, 1, at("p4", "alice", 1), db)).toBe("admitted");
      await gate.reset(collection);
      expect(await gate.admit(collection, 1, at("p5", "alice", 1), db)).toBe("admitted");
    });

    it("counts again from the database after a reset, when editions came back", async () => {
      expect(await gate.admit(collection, 2, at("k1"), async () => 2)).toBe("admitted");
      expect(await gate.admit(collection, 1, at("k2"), async () => 0)).toBe("soldOut");
      await gate.reset(collection);
      expect(await gate.admit(collection, 1, at("k3"), async () => 1)).toBe("admitted");
    });
  });
}

for (const database of databasesUnderTest()) {
  describe(`flash-sale reservation route (${database.name})`, () => {
    let test: TestPlatform;
    let app: FastifyInstance;
    beforeAll(async () => {
      test = await createTestPlatform(database, { env: { RESERVE_ATTEMPTS_PER_MINUTE: "1000" } });
      app = await buildHttpApp(test.platform, { logger: false });
    });
    afterAll(async () => {
      await app.close();
      await test.close();
    });

    /** A POST as the storefront sends it: `token`'s session cookie, the CSRF cookie and header (`csrf`). */
    const post = (url: string, token: string | null, payload: unknown, csrf = "t0k3n") =>
      app.inject({
        method: "POST",
        url,
        headers: {
          cookie: `csrf=t0k3n${token === null ? "" : `; sid=${token}`}`,
          "x-csrf-token": csrf,
          "content-type": "application/json",
        },
        payload: JSON.stringify(payload),
      });
    const reserve = (token: string | null, collectionId: number | string, body: unknown, csrf = "t0k3n") =>
      post("/trpc/drops.reserve", token, { ...(body as object), collectionId }, csrf);
    const key = () => `k-${randomBytes(6).toString("hex")}`;
    const count = async (query: string) =>
      ((await test.platform.db.execute(sql.raw(query))) as unknown as { rows: { n: number }[] }).rows[0]!.n;

    it("sells exactly the edition size to a crowd and tells the rest it is sold out", async () => {
      const collection = await publishedCollection(test, { editionSize: 5, perPersonLimit: 1 });
      const buyers = await Promise.all(Array.from({ length: 8 }, () => verifiedCollector(test)));
      // The first reservation teaches the service that the collection exists; the rest meet the gate.
      const answers = await Promise.all(
        buyers.map((b) => reserve(b.token, collection.id, { quantity: 1, idempotencyKey: key() })),
      );
      const statuses = answers.map((a) => a.statusCode).sort();
      expect(statuses.filter((s) => s === 200)).toHaveLength(5);
      expect(answers.filter((a) => a.statusCode === 409).map((a) => a.json().error.data.appCode)).toEqual(
        Array(3).fill("drop.soldOut"),
      );
      expect(
        await count(
          `select count(*)::int as n from edition_slots where collection_id = ${collection.id} and status = 'reserved'`,
        ),
      ).toBe(5);
    });

    it("answers a retried reservation with the same order, and the person's limit with its code", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 1 });
      const buyer = await verifiedCollector(test);
      const idempotencyKey = key();
      const first = await reserve(buyer.token, collection.id, { quantity: 1, idempotencyKey });
      const again = await reserve(buyer.token, collection.id, { quantity: 1, idempotencyKey });
      expect(first.statusCode).toBe(200);
      expect(again.json().result.data.orderNo).toBe(first.json().result.data.orderNo);
      const second = await reserve(buyer.token, collection.id, { quantity: 1, idempotencyKey: key() });
      expect(second.statusCode).toBe(403);
      expect(second.json().error.data.appCode).toBe("drop.limitReached");
      expect(await count(`select count(*)::int as n from orders where collection_id = ${collection.id}`)).toBe(1);
    });

    it("refuses without the CSRF token, a session, a verification or valid input, and writes nothing", async () => {
      const collection = await publishedCollection(test, { editionSize: 10 });
      const buyer = await verifiedCollector(test);
      const unverified = await login(test);
      const before = await count("select count(*)::int as n from orders");
      expect(
        (await reserve(buyer.token, collection.id, { quantity: 1, idempotencyKey: key() }, "wrong")).statusCode,
      ).toBe(403);
      expect((await reserve(null, collection.id, { quantity: 1, idempotencyKey: key() })).statusCode).toBe(401);
      const notVerified = await reserve(unverified.token, collection.id, { quantity: 1, idempotencyKey: key() });
      expect(notVerified.json().error.data.appCode).toBe("kyc.notVerified");
      for (const body of [
        { quantity: 0, idempotencyKey: key() },
        { quantity: 1 },
        { quantity: "1", idempotencyKey: key() },
        null,
      ]) {
        const answer = await reserve(buyer.token, collection.id, body);
        expect(answer.statusCode).toBe(400);
        expect(answer.json().error.data.appCode).toBe("input.invalid");
      }
      expect((await reserve(buyer.token, "abc", { quantity: 1, idempotencyKey: key() })).statusCode).toBe(400);
      const unknown = await reserve(buyer.token, 999_999, { quantity: 1, idempotencyKey: key() });
      expect(unknown.json().error.data.appCode).toBe("collection.notFound");
      expect(await count("select count(*)::int as n from orders")).toBe(before);
    });

    it("refuses a session from the request after its logout on (no remembered sessions)", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 5 });
      const buyer = await verifiedCollector(test);
      expect((await reserve(buyer.token, collection.id, { quantity: 1, idempotencyKey: key() })).statusCode).toBe(200);
      await buyer.caller.auth.logout();
      const after = await reserve(buyer.token, collection.id, { quantity: 1, idempotencyKey: key() });
      expect(after.statusCode).toBe(401);
      expect(after.json().error.data.appCode).toBe("auth.required");
    });

    it("answers exactly as the general tRPC adapter does for the same call", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 1 });
      const buyer = await verifiedCollector(test);
      const other = await verifiedCollector(test);
      const unverified = await login(test);
      const operator = await loggedInOperator(test);
      // Two calls in one batch: the general adapter's route, not the door's.
      const general = (token: string | null, input: unknown, csrf = "t0k3n") =>
        post("/trpc/drops.reserve,drops.reserve?batch=1", token, { 0: input, 1: input }, csrf);
      const door = (token: string | null, input: unknown, csrf = "t0k3n") =>
        post("/trpc/drops.reserve", token, input, csrf);
      const valid = () => ({ collectionId: collection.id, quantity: 1, idempotencyKey: key() });
      // Every refusal the procedure has, in its order: CSRF, session, role, verification, input, the service's.
      const refusals: [string | null, unknown, string, string][] = [
        [buyer.token, valid(), "wrong", "auth.csrf"],
        [null, valid(), "t0k3n", "auth.required"],
        [operator.token, valid(), "t0k3n", "auth.forbidden"],
        [unverified.token, valid(), "t0k3n", "kyc.notVerified"],
        [buyer.token, { collectionId: collection.id, quantity: 0, idempotencyKey: key() }, "t0k3n", "input.invalid"],
        [buyer.token, { collectionId: "abc", quantity: 1 }, "t0k3n", "input.invalid"],
        [buyer.token, null, "t0k3n", "input.invalid"],
        [buyer.token, { collectionId: 999_999, quantity: 1, idempotencyKey: key() }, "t0k3n", "collection.notFound"],
      ];
      for (const [token, input, csrf, appCode] of refusals) {
        const viaDoor = await door(token, input, csrf);
        const viaGeneral = await general(token, input, csrf);
        expect(viaDoor.json().error.data.appCode).toBe(appCode);
        expect(viaDoor.statusCode).toBe(viaGeneral.statusCode);
        expect(viaDoor.json().error).toEqual(viaGeneral.json()[0].error);
      }
      // The service's own refusals: the person's limit after their purchase, and a sold-out collection.
      const soldOut = await publishedCollection(test, { editionSize: 1, perPersonLimit: 1 });
      expect((await door(buyer.token, valid())).statusCode).toBe(200);
      expect((await door(buyer.token, { ...valid(), collectionId: soldOut.id })).statusCode).toBe(200);
      for (const [token, input, appCode] of [
        [buyer.token, valid, "drop.limitReached"],
        [other.token, () => ({ ...valid(), collectionId: soldOut.id }), "drop.soldOut"],
      ] as const) {
        // Twice: the door answers a refusal it has met before from memory, and must answer it the same.
        const viaGeneral = await general(token, input());
        for (const viaDoor of [await door(token, input()), await door(token, input())]) {
          expect(viaDoor.json().error.data.appCode).toBe(appCode);
          expect(viaDoor.statusCode).toBe(viaGeneral.statusCode);
          expect(viaDoor.headers["content-type"]).toBe("application/json; charset=utf-8");
          expect(viaDoor.json().error).toEqual(viaGeneral.json()[0].error);
        }
      }
      // A batch of the one call (what httpBatchLink would send) is answered as a batch.
      const single = await post("/trpc/drops.reserve?batch=1", other.token, {
        0: { collectionId: collection.id, quantity: 1, idempotencyKey: key() },
      });
      expect(single.statusCode).toBe(200);
      expect(single.json()[0].result.data.status).toBe("created");
    });

    it("gives returned editions to the next buyer after an order expires", async () => {
      const collection = await publishedCollection(test, { editionSize: 1, perPersonLimit: 1 });
      const first = await verifiedCollector(test);
      const second = await verifiedCollector(test);
      expect((await reserve(first.token, collection.id, { quantity: 1, idempotencyKey: key() })).statusCode).toBe(200);
      expect((await reserve(second.token, collection.id, { quantity: 1, idempotencyKey: key() })).statusCode).toBe(409);
      test.clock.advance(11 * 60_000);
      await test.platform.payments.settleExpiring(test.platform.db);
      expect((await reserve(second.token, collection.id, { quantity: 1, idempotencyKey: key() })).statusCode).toBe(200);
    });
  });
}

describe.skipIf(!withRedis)("a Redis gate that loses its state mid-sale", () => {
  it("cannot oversell: the database's constraints decide, and the counter is seeded again", async () => {
    const database = databasesUnderTest().at(-1)!;
    const test = await createTestPlatform(database, { env: { REDIS_URL, RESERVE_ATTEMPTS_PER_MINUTE: "1000" } });
    const redis = new Redis(REDIS_URL);
    // The gate's keys are per collection id and holder id, which a fresh database hands out again: start from an
    // empty Redis so nothing an earlier test left (a counter, a holder's count) answers for this sale.
    await redis.flushdb();
    try {
      const collection = await publishedCollection(test, { editionSize: 6, perPersonLimit: 1 });
      const buyers = await Promise.all(Array.from({ length: 14 }, () => verifiedCollector(test)));
      const attempt = (b: (typeof buyers)[number], i: number) =>
        b.caller.drops
          .reserve({
            collectionId: collection.id,
            quantity: 1,
            idempotencyKey: `lost-${i}-${randomBytes(3).toString("hex")}`,
          })
          .then(
            () => "sold",
            (error: { message: string }) => error.message,
          );
      const early = await Promise.all(buyers.slice(0, 4).map(attempt));
      await redis.flushdb();
      const late = await Promise.all(buyers.slice(4).map((b, i) => attempt(b, i + 4)));
      const answers = [...early, ...late];
      expect(answers.filter((a) => a === "sold")).toHaveLength(6);
      expect(
        answers.filter((a) => a !== "sold"),
        JSON.stringify(answers),
      ).toEqual(Array(8).fill("drop.soldOut"));
      const slots = (await test.platform.db.execute(
        sql`select count(*)::int as n from edition_slots where collection_id = ${collection.id} and status <> 'available'`,
      )) as unknown as { rows: { n: number }[] };
      expect(slots.rows[0]!.n).toBe(6);
      const overLimit = (await test.platform.db.execute(
        sql`select count(*)::int as n from purchase_counts where collection_id = ${collection.id} and count > 1`,
      )) as unknown as { rows: { n: number }[] };
      expect(overLimit.rows[0]!.n).toBe(0);
    } finally {
      await redis.flushdb();
      redis.disconnect();
      await test.close();
    }
  });
});
