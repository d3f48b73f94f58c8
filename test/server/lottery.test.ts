import { createHash } from "node:crypto";

import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { rankEntries } from "../../server/modules/drops/lottery.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  login,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";

const ANCHOR = `0x${"ab".repeat(32)}`;
let keyCounter = 0;
const key = () => `lot-${Date.now()}-${++keyCounter}`;

describe("winner ranking", () => {
  it("is a pure function of seed, anchor and entries, independent of entry order", () => {
    const entries = Array.from({ length: 20 }, (_, i) => `0x${String(i).padStart(64, "0")}`);
    const winners = rankEntries("seed", ANCHOR, entries, 5);
    expect(winners).toHaveLength(5);
    expect(rankEntries("seed", ANCHOR, [...entries].reverse(), 5)).toEqual(winners);
    expect(rankEntries("other", ANCHOR, entries, 5)).not.toEqual(winners);
  });
});

for (const database of databasesUnderTest()) {
  describe(`lottery drops (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database, { overrides: { lotteryAnchor: async () => ANCHOR } });
    });
    afterEach(async () => {
      await test.close();
    });

    async function operator() {
      const person = await login(test);
      await promote(test.platform, person.user.id, "operator");
      return (await callerFor(test.platform, { token: person.token })).caller;
    }

    it("publishes the seed's hash first, draws verifiable winners, and lets only winners buy", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 1, startsInMs: 3_600_000 });
      const ops = await operator();
      const opened = await ops.lottery.open({
        collectionId: collection.id,
        registrationEndsAt: new Date(test.clock.now().getTime() + 1_800_000),
        winnersCount: 2,
      });
      expect(opened.seedCommitment).toMatch(/^[0-9a-f]{64}$/);

      const people = [];
      for (let i = 0; i < 5; i++) people.push(await verifiedCollector(test));
      for (const person of people) await person.caller.lottery.register({ collectionId: collection.id });
      await expectAppError(
        people[0]!.caller.lottery.register({ collectionId: collection.id }),
        "lottery.alreadyRegistered",
        "CONFLICT",
      );
      const before = await people[0]!.caller.lottery.result({ collectionId: collection.id });
      expect(before).toMatchObject({ drawn: false, seed: null, entries: [], entryCount: 5 });
      await expectAppError(ops.lottery.draw({ collectionId: collection.id }), "lottery.stillOpen");

      test.clock.advance(1_800_000);
      await expectAppError(people[0]!.caller.lottery.register({ collectionId: collection.id }), "lottery.closed");
      expect(await ops.lottery.draw({ collectionId: collection.id })).toEqual({ entries: 5, winners: 2 });
      await expectAppError(ops.lottery.draw({ collectionId: collection.id }), "lottery.alreadyDrawn");

      // Anyone can check the seed against the commitment and recompute the winners.
      const { caller: anyone } = await callerFor(test.platform);
      const result = await anyone.lottery.result({ collectionId: collection.id });
      expect(createHash("sha256").update(result.seed!).digest("hex")).toBe(opened.seedCommitment);
      expect(result.anchor).toBe(ANCHOR);
      const recomputed = rankEntries(
        result.seed!,
        result.anchor!,
        result.entries.map((e) => e.commitment),
        2,
      );
      expect(
        result.entries
          .filter((e) => e.won)
          .map((e) => e.commitment)
          .sort(),
      ).toEqual([...recomputed].sort());

      test.clock.advance(1_800_000);
      const outcomes = await Promise.allSettled(
        people.map((p) => p.caller.drops.reserve({ collectionId: collection.id, quantity: 1, idempotencyKey: key() })),
      );
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(2);
      expect(
        outcomes
          .filter((o) => o.status === "rejected")
          .every((o) => (o as PromiseRejectedResult).reason.message === "lottery.notWinner"),
      ).toBe(true);
      // Those who got an order are exactly the winners, whether a group statement or a lone reservation judged them.
      const standings = await Promise.all(
        people.map((p) => p.caller.lottery.standing({ collectionId: collection.id })),
      );
      expect(outcomes.map((o) => o.status === "fulfilled")).toEqual(standings.map((s) => s?.won === true));
    });

    it("refuses a lottery that closes after the sale starts, a second lottery, and non-operators", async () => {
      const collection = await publishedCollection(test, { startsInMs: 3_600_000 });
      const ops = await operator();
      const late = new Date(test.clock.now().getTime() + 7_200_000);
      await expectAppError(
        ops.lottery.open({ collectionId: collection.id, registrationEndsAt: late, winnersCount: 1 }),
        "lottery.invalidWindow",
        "BAD_REQUEST",
      );
      const ok = new Date(test.clock.now().getTime() + 60_000);
      await ops.lottery.open({ collectionId: collection.id, registrationEndsAt: ok, winnersCount: 1 });
      await expectAppError(
        ops.lottery.open({ collectionId: collection.id, registrationEndsAt: ok, winnersCount: 1 }),
        "lottery.exists",
        "CONFLICT",
      );
      const collector = await verifiedCollector(test);
      await expectAppError(
        collector.caller.lottery.draw({ collectionId: collection.id }),
        "auth.forbidden",
        "FORBIDDEN",
      );
      const unverified = await login(test);
      await expectAppError(
        unverified.caller.lottery.register({ collectionId: collection.id }),
        "kyc.notVerified",
        "FORBIDDEN",
      );
    });
  });
}
