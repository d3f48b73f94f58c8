import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  login,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";

let keyCounter = 0;
const key = () => `key-${Date.now()}-${++keyCounter}`;

for (const database of databasesUnderTest()) {
  describe(`drops and orders (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    it("reserves editions at the collection's price for the payment window", async () => {
      const collection = await publishedCollection(test, { priceFen: 1990, perPersonLimit: 2 });
      const { caller } = await verifiedCollector(test);
      const order = await caller.drops.reserve({
        collectionId: collection.id,
        quantity: 2,
        idempotencyKey: key(),
        priceFen: 1,
      } as never);
      expect(order).toMatchObject({
        status: "created",
        quantity: 2,
        unitPriceFen: 1990,
        amountFen: 3980,
        editions: [1, 2],
      });
      expect(order.orderNo).toMatch(/^SZ\d{8}[0-9A-F]{12}$/);
      expect(order.expiresAt.getTime() - test.clock.now().getTime()).toBe(10 * 60_000);
      expect(await caller.drops.stock({ collectionId: collection.id })).toEqual({
        editionSize: 100,
        available: 98,
        reserved: 2,
        sold: 0,
      });
      const detail = await caller.orders.get({ orderNo: order.orderNo });
      expect(detail.history).toEqual([expect.objectContaining({ from: null, to: "created" })]);
    });

    it("answers a retried reservation with the same order, even when both arrive at once", async () => {
      const collection = await publishedCollection(test);
      const { caller } = await verifiedCollector(test);
      const idempotencyKey = key();
      const [a, b] = await Promise.all([
        caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey }),
        caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey }),
      ]);
      expect(b.orderNo).toBe(a.orderNo);
      const again = await caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey });
      expect(again.orderNo).toBe(a.orderNo);
      expect((await caller.drops.stock({ collectionId: collection.id })).reserved).toBe(1);
      const mine = await caller.orders.mine();
      expect(mine).toHaveLength(1);
      // The order list names what was bought.
      expect(mine[0]!.title).toBe(collection.title);
    });

    it("never sells more than the edition size under concurrent buyers", async () => {
      const collection = await publishedCollection(test, { editionSize: 5, perPersonLimit: 1 });
      const buyers = [];
      for (let i = 0; i < 8; i++) buyers.push(await verifiedCollector(test));
      const results = await Promise.allSettled(
        buyers.map((b) => b.caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() })),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      expect(won).toHaveLength(5);
      expect(lost.every((r) => (r as PromiseRejectedResult).reason.message === "drop.soldOut")).toBe(true);
      const editions = won.flatMap((r) => (r as PromiseFulfilledResult<{ editions: number[] }>).value.editions).sort();
      expect(editions).toEqual([1, 2, 3, 4, 5]);
      const { caller } = await callerFor(test.platform);
      expect(await caller.drops.stock({ collectionId: collection.id })).toEqual({
        editionSize: 5,
        available: 0,
        reserved: 5,
        sold: 0,
      });
    });

    it("holds each person to the per-person limit across orders", async () => {
      const collection = await publishedCollection(test, { perPersonLimit: 2 });
      const { caller } = await verifiedCollector(test);
      await expectAppError(
        caller.drops.reserve({ collectionId: collection.id, quantity: 3, idempotencyKey: key() }),
        "drop.limitReached",
        "FORBIDDEN",
      );
      await caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() });
      await caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() });
      const refused = await expectAppError(
        caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() }),
        "drop.limitReached",
      );
      expect(refused.cause).toMatchObject({ params: { limit: 2 } });
      expect((await caller.drops.stock({ collectionId: collection.id })).reserved).toBe(2);
    });

    it("refuses outside the sale window and to collectors who are not verified", async () => {
      const upcoming = await publishedCollection(test, { startsInMs: 60_000 });
      const ended = await publishedCollection(test, { startsInMs: -120_000, endsInMs: -60_000 });
      const { caller } = await verifiedCollector(test);
      await expectAppError(
        caller.drops.reserve({ collectionId: upcoming.id, quantity: 1, idempotencyKey: key() }),
        "drop.notStarted",
        "PRECONDITION_FAILED",
      );
      await expectAppError(
        caller.drops.reserve({ collectionId: ended.id, quantity: 1, idempotencyKey: key() }),
        "drop.ended",
      );
      const unverified = await login(test);
      await expectAppError(
        unverified.caller.drops.reserve({ collectionId: upcoming.id, quantity: 1, idempotencyKey: key() }),
        "kyc.notVerified",
        "FORBIDDEN",
      );
      await expectAppError(
        caller.drops.reserve({ collectionId: 999_999, quantity: 1, idempotencyKey: key() }),
        "collection.notFound",
      );
    });

    it("expires unpaid orders after the window and gives editions and the person's count back", async () => {
      const collection = await publishedCollection(test, { editionSize: 1, perPersonLimit: 1 });
      const { caller } = await verifiedCollector(test);
      const order = await caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() });
      test.clock.advance(10 * 60_000 - 1);
      expect(await test.platform.drops.expireDue(test.platform.db)).toBe(0);
      test.clock.advance(1);
      expect(await test.platform.drops.expireDue(test.platform.db)).toBe(1);
      const detail = await caller.orders.get({ orderNo: order.orderNo });
      expect(detail.status).toBe("expired");
      expect(detail.editions).toEqual([]);
      expect(detail.history.map((h) => h.to)).toEqual(["created", "expired"]);
      expect((await caller.drops.stock({ collectionId: collection.id })).available).toBe(1);
      const second = await caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() });
      expect(second.editions).toEqual([1]);
    });

    it("lets a collector cancel an unpaid order, once", async () => {
      const collection = await publishedCollection(test);
      const { caller } = await verifiedCollector(test);
      const order = await caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() });
      await caller.orders.cancel({ orderNo: order.orderNo });
      await expectAppError(caller.orders.cancel({ orderNo: order.orderNo }), "order.wrongState", "PRECONDITION_FAILED");
      expect((await caller.drops.stock({ collectionId: collection.id })).available).toBe(100);
    });

    it("rate-limits reservation attempts per account", async () => {
      await test.close();
      test = await createTestPlatform(database, { env: { RESERVE_ATTEMPTS_PER_MINUTE: "3" } });
      const collection = await publishedCollection(test, { perPersonLimit: 1 });
      const { caller } = await verifiedCollector(test);
      const idempotencyKey = key();
      for (let i = 0; i < 3; i++)
        await caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey });
      await expectAppError(
        caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey }),
        "auth.rateLimited",
        "TOO_MANY_REQUESTS",
      );
    });

    it("counts against the rate limit only the attempts that would reach the database", async () => {
      await test.close();
      test = await createTestPlatform(database, { env: { RESERVE_ATTEMPTS_PER_MINUTE: "2" } });
      const collection = await publishedCollection(test, { editionSize: 4, perPersonLimit: 3 });
      const { caller } = await verifiedCollector(test);
      const attempt = (quantity = 1) => ({ collectionId: collection.id, quantity, idempotencyKey: key() });

      await caller.drops.reserve(attempt());
      // Refused at the gate (over the per-person limit): not counted, one attempt of the two is left.
      await expectAppError(caller.drops.reserve(attempt(3)), "drop.limitReached", "FORBIDDEN");
      await caller.drops.reserve(attempt());
      // The third is admitted and then refused by the rate limit; its edition goes back for someone else.
      await expectAppError(caller.drops.reserve(attempt()), "auth.rateLimited", "TOO_MANY_REQUESTS");
      const other = await verifiedCollector(test);
      expect((await other.caller.drops.reserve(attempt(2))).editions).toEqual([3, 4]);
      // Sold out now: the crowd after the last edition is told so, rate limit or not.
      await expectAppError(caller.drops.reserve(attempt()), "drop.soldOut");
      expect(await caller.drops.stock({ collectionId: collection.id })).toMatchObject({ available: 0, reserved: 4 });
    });

    it("counts attempts at collections it does not know, which are looked up in the database", async () => {
      await test.close();
      test = await createTestPlatform(database, { env: { RESERVE_ATTEMPTS_PER_MINUTE: "2" } });
      const { caller } = await verifiedCollector(test);
      const attempt = { collectionId: 987_654, quantity: 1, idempotencyKey: key() };
      await expectAppError(caller.drops.reserve(attempt), "collection.notFound", "NOT_FOUND");
      await expectAppError(caller.drops.reserve(attempt), "collection.notFound", "NOT_FOUND");
      await expectAppError(caller.drops.reserve(attempt), "auth.rateLimited", "TOO_MANY_REQUESTS");
    });

    it("hides other collectors' orders", async () => {
      const collection = await publishedCollection(test);
      const alice = await verifiedCollector(test);
      const bob = await verifiedCollector(test);
      const order = await alice.caller.drops.reserve({
        collectionId: collection.id,
        quantity: 1,
        idempotencyKey: key(),
      });
      await expectAppError(bob.caller.orders.get({ orderNo: order.orderNo }), "order.notFound", "NOT_FOUND");
      await expectAppError(bob.caller.orders.cancel({ orderNo: order.orderNo }), "order.notFound");
      expect(await bob.caller.orders.mine()).toEqual([]);
    });
  });
}
