import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  login,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";

/**
 * Admitted reservations of one collection are committed in groups. These are the group's rules: it gives
 * the same answers as one reservation at a time, it never says "sold out" while an edition is free, and
 * when the gate in front of it is wrong (another instance, a lost Redis) the database still decides.
 */

let keyCounter = 0;
const key = () => `group-${Date.now()}-${++keyCounter}`;

type Collector = Awaited<ReturnType<typeof verifiedCollector>>;

async function collectors(test: TestPlatform, count: number): Promise<Collector[]> {
  const people: Collector[] = [];
  for (let i = 0; i < count; i++) people.push(await verifiedCollector(test));
  return people;
}

for (const database of databasesUnderTest()) {
  describe(`flash-sale group commit (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    const reserve = (person: Collector, collectionId: number, quantity = 1, idempotencyKey = key()) =>
      person.caller.drops.reserve({ collectionId, quantity, idempotencyKey });

    const stockOf = (collectionId: number) => test.platform.drops.stock(test.platform.db, collectionId);
    /** How many admitted attempts the database decided in group statements and one at a time (the metric). */
    const paths = async () => {
      const { values } = await test.platform.metrics.reservations.get();
      const of = (path: string) => values.find((v) => v.labels.path === path)?.value ?? 0;
      return { group: of("group"), alone: of("alone") };
    };

    it("gives every one of as many simultaneous buyers as editions their own, and tells none of them sold out", async () => {
      const collection = await publishedCollection(test, { editionSize: 30, perPersonLimit: 2 });
      const people = await collectors(test, 25);
      const orders = await Promise.all(people.map((p, i) => reserve(p, collection.id, i < 5 ? 2 : 1)));
      const editions = orders.flatMap((o) => o.editions).sort((a, b) => a - b);
      expect(editions).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      orders.forEach((order, i) => expect(order.editions).toHaveLength(i < 5 ? 2 : 1));
      expect(await stockOf(collection.id)).toMatchObject({ available: 0, reserved: 30 });
      // All of them were decided by group statements: none had to fall back to one at a time.
      expect(await paths()).toEqual({ group: 25, alone: 0 });
    });

    it("carries several attempts of one person in the group statement too, within the limit", async () => {
      const collection = await publishedCollection(test, { editionSize: 40, perPersonLimit: 2 });
      const people = await collectors(test, 10);
      // Each person clicks twice at once (two tabs): the two attempts arrive side by side.
      const orders = await Promise.all(people.flatMap((p) => [reserve(p, collection.id), reserve(p, collection.id)]));
      const editions = orders.flatMap((o) => o.editions).sort((a, b) => a - b);
      expect(editions).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      people.forEach((_, i) => expect(orders[2 * i]!.orderNo).not.toBe(orders[2 * i + 1]!.orderNo));
      expect(await stockOf(collection.id)).toMatchObject({ available: 20, reserved: 20 });
      // No second attempt had to wait for a reservation of its own, one at a time.
      expect(await paths()).toEqual({ group: 20, alone: 0 });
      // A third attempt of anyone is over the limit.
      await expect(reserve(people[0]!, collection.id)).rejects.toMatchObject({ message: "drop.limitReached" });
    });

    it("serves the first arrivals and refuses the rest as sold out when the database has fewer editions than the gate believed", async () => {
      const collection = await publishedCollection(test, { editionSize: 8, perPersonLimit: 1 });
      const first = await collectors(test, 1);
      const firstOrder = await reserve(first[0]!, collection.id); // the gate now counts 7 left
      // Three editions go behind the gate's back (as another instance with its own gate would take them).
      await test.platform.db.execute(sql`
        update edition_slots set status = 'reserved',
          order_id = (select id from orders where order_no = ${firstOrder.orderNo})
        where collection_id = ${collection.id} and edition_no in (6, 7, 8)`);
      const crowd = await collectors(test, 7);
      const results = await Promise.allSettled(crowd.map((p) => reserve(p, collection.id)));
      const won = results.filter((r) => r.status === "fulfilled");
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(won).toHaveLength(4);
      expect(refused.map((r) => (r.reason as Error).message)).toEqual(["drop.soldOut", "drop.soldOut", "drop.soldOut"]);
      expect(await stockOf(collection.id)).toEqual({ editionSize: 8, available: 0, reserved: 8, sold: 0 });
      // "Sold out" for those that did not fit is the group statement's own answer, not a fallback's.
      expect(await paths()).toEqual({ group: 8, alone: 0 });
      // The gate did not take back the units the database found sold out: the next attempt is answered
      // without reaching a reservation statement.
      await expect(reserve((await collectors(test, 1))[0]!, collection.id)).rejects.toThrow("drop.soldOut");
      expect(await paths()).toEqual({ group: 8, alone: 0 });
    });

    it("refuses a person over the limit in a group whose gate forgot them, and still serves the others", async () => {
      const collection = await publishedCollection(test, { editionSize: 20, perPersonLimit: 1 });
      const [early, ...others] = await collectors(test, 6);
      await reserve(early!, collection.id);
      await test.platform.gate.reset(collection.id); // Redis lost its keys: the gate knows no holder now
      const results = await Promise.allSettled([
        ...others.map((p) => reserve(p, collection.id)),
        reserve(early!, collection.id),
      ]);
      expect(results.slice(0, 5).every((r) => r.status === "fulfilled")).toBe(true);
      expect(results[5]).toMatchObject({ status: "rejected", reason: { message: "drop.limitReached" } });
      expect(await stockOf(collection.id)).toMatchObject({ reserved: 6, available: 14 });
      expect(await early!.caller.orders.mine()).toHaveLength(1);
      // The group with the person over the limit refused itself, and its attempts were decided one at a time.
      const { group, alone } = await paths();
      expect(alone).toBeGreaterThanOrEqual(1);
      expect(group + alone).toBe(7);
    });

    it("serves the first of a person's simultaneous attempts and refuses the one past the limit the gate forgot", async () => {
      const collection = await publishedCollection(test, { editionSize: 20, perPersonLimit: 2 });
      const [person, ...others] = await collectors(test, 5);
      await reserve(person!, collection.id);
      await test.platform.gate.reset(collection.id); // the gate no longer knows the edition the person holds
      // Two tabs at once, among the crowd (behind the first, who goes alone): together they would take the
      // person to three.
      const [first, ...rest] = others;
      const results = await Promise.allSettled([
        reserve(first!, collection.id),
        reserve(person!, collection.id),
        ...rest.map((p) => reserve(p, collection.id)),
        reserve(person!, collection.id),
      ]);
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
      expect(refused.map((r) => (r.reason as Error).message)).toEqual(["drop.limitReached"]);
      expect([results[0], ...results.slice(2, 5)].every((r) => r!.status === "fulfilled")).toBe(true);
      expect(await person!.caller.orders.mine()).toHaveLength(2);
      expect(await stockOf(collection.id)).toMatchObject({ reserved: 6, available: 14 });
      // The statement with everyone refused itself; the rounds after it decided all but the one past the limit.
      const { group, alone } = await paths();
      expect(alone).toBeGreaterThanOrEqual(1);
      expect(group + alone).toBe(7);
    });

    it("refuses inside a group an account whose verification lapsed or never was, with its code, and serves the others", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 1 });
      const [lapsed, ...others] = await collectors(test, 4);
      const never = await login(test);
      // The verification lapses between the door's check and the statement: the statement judges it again.
      await test.platform.db.execute(
        sql`update kyc_identities set expires_at = ${new Date(test.clock.now().getTime() - 1000).toISOString()}::timestamptz
            where user_id = ${lapsed!.user.id}`,
      );
      const results = await Promise.allSettled(
        [lapsed!, never, ...others].map((person) =>
          test.platform.drops.reserve(test.platform.db, person.user.id, {
            collectionId: collection.id,
            quantity: 1,
            idempotencyKey: key(),
          }),
        ),
      );
      expect(results.slice(0, 2)).toMatchObject([
        { status: "rejected", reason: { message: "kyc.notVerified" } },
        { status: "rejected", reason: { message: "kyc.notVerified" } },
      ]);
      expect(results.slice(2).every((r) => r.status === "fulfilled")).toBe(true);
      expect(await stockOf(collection.id)).toMatchObject({ reserved: 3, available: 7 });
      // The group statement judged the verifications itself: nothing fell back to one at a time.
      expect(await paths()).toEqual({ group: 5, alone: 0 });
    });

    it("answers a retried key with its first order inside a group, taking no second edition", async () => {
      const collection = await publishedCollection(test, { editionSize: 20, perPersonLimit: 1 });
      const [buyer, ...others] = await collectors(test, 5);
      const idempotencyKey = key();
      const first = await reserve(buyer!, collection.id, 1, idempotencyKey);
      await test.platform.gate.reset(collection.id); // the gate no longer knows the key either
      const [again, ...rest] = await Promise.all([
        reserve(buyer!, collection.id, 1, idempotencyKey),
        ...others.map((p) => reserve(p, collection.id)),
      ]);
      expect(again!.orderNo).toBe(first.orderNo);
      expect(again!.editions).toEqual(first.editions);
      expect(rest).toHaveLength(4);
      expect(await stockOf(collection.id)).toMatchObject({ reserved: 5, available: 15 });
    });
  });
}
