import { createHash } from "node:crypto";

import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { firstBlockAtOrAfter } from "../../server/chain/block-at.js";
import { rankEntries } from "../../server/modules/drops/lottery.js";
import { type PublishedLottery, verifyLottery } from "../../server/modules/drops/lottery-proof.js";
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
const BLOCK_SECONDS = 10;

/** A chain stand-in: one block every 10 s from the test clock's start up to its present moment. */
function chainUntil(now: () => Date) {
  const genesis = Math.floor(new Date("2026-11-24T00:00:00Z").getTime() / 1000);
  const blockAt = (number: number) => ({
    number,
    timestamp: genesis + number * BLOCK_SECONDS,
    hash: `0x${createHash("sha256").update(`block ${number}`).digest("hex")}`,
  });
  const height = () => Math.floor((now().getTime() / 1000 - genesis) / BLOCK_SECONDS);
  return {
    getBlock: async (tag: number | string) => {
      const number = tag === "latest" ? height() : Number(tag);
      return number > height() ? null : blockAt(number);
    },
  } as unknown as Parameters<typeof firstBlockAtOrAfter>[0];
}
let keyCounter = 0;
const key = () => `lot-${Date.now()}-${++keyCounter}`;

describe("winner ranking", () => {
  it("anchors on the first block at or after the draw time, whenever asked", async () => {
    let now = new Date("2026-11-24T01:00:00Z");
    const chain = chainUntil(() => now);
    const drawAt = new Date("2026-11-24T00:30:05Z");
    const first = await firstBlockAtOrAfter(chain, drawAt);
    expect(first?.blockNumber).toBe(181);
    now = new Date("2026-11-25T00:00:00Z");
    expect(await firstBlockAtOrAfter(chain, drawAt)).toEqual(first);
    expect(await firstBlockAtOrAfter(chain, new Date("2026-11-26T00:00:00Z"))).toBeNull();
  });

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
      let now = () => new Date();
      test = await createTestPlatform(database, {
        overrides: {
          lotteryAnchorAt: (at) =>
            firstBlockAtOrAfter(
              chainUntil(() => now()),
              at,
            ),
        },
      });
      now = test.clock.now;
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
      const result = (await anyone.lottery.result({ collectionId: collection.id }))!;
      expect(createHash("sha256").update(result.seed!).digest("hex")).toBe(opened.seedCommitment);
      expect(result.anchor).toBe(result.blockHash);
      expect(verifyLottery(result as PublishedLottery).match).toBe(true);
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
      const { caller: anyone } = await callerFor(test.platform);
      expect(await anyone.lottery.result({ collectionId: collection.id })).toBeNull();
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

    it("seals the seed, draws only at the fixed time by the scheduler, once, and publishes what verifies it", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 1, startsInMs: 3_600_000 });
      const ops = await operator();
      const drawAt = new Date(test.clock.now().getTime() + 1_800_000);
      const opened = await ops.lottery.open({
        collectionId: collection.id,
        registrationEndsAt: drawAt,
        winnersCount: 3,
      });
      expect(opened.drawAt).toEqual(drawAt);
      const { caller: anyone } = await callerFor(test.platform);
      const published = (await anyone.lottery.result({ collectionId: collection.id }))!;
      expect(published).toMatchObject({ seedCommitment: opened.seedCommitment, drawn: false, seed: null });

      const people = [];
      for (let i = 0; i < 6; i++) people.push(await verifiedCollector(test));
      for (const person of people) await person.caller.lottery.register({ collectionId: collection.id });
      const answersBefore = JSON.stringify([
        opened,
        await anyone.lottery.result({ collectionId: collection.id }),
        await people[0]!.caller.lottery.standing({ collectionId: collection.id }),
      ]);

      // Before the fixed time: the operator is refused, the scheduler draws nothing.
      test.clock.advance(1_800_000 - 1_000);
      await expectAppError(
        ops.lottery.draw({ collectionId: collection.id }),
        "lottery.stillOpen",
        "PRECONDITION_FAILED",
      );
      expect(await test.platform.lottery.drawDue(test.platform.db)).toBe(0);

      // At the fixed time the scheduler draws; the operator can no longer draw again.
      test.clock.advance(1_000);
      expect(await test.platform.scheduler.runNow("lottery-draws")).toBe(true);
      expect((await anyone.lottery.result({ collectionId: collection.id }))!.drawn).toBe(true);
      expect(await test.platform.lottery.drawDue(test.platform.db)).toBe(0);
      await expectAppError(ops.lottery.draw({ collectionId: collection.id }), "lottery.alreadyDrawn", "CONFLICT");

      const result = (await anyone.lottery.result({ collectionId: collection.id }))!;
      expect(createHash("sha256").update(result.seed!).digest("hex")).toBe(opened.seedCommitment);
      // The seed was shown nowhere before the draw, and the database never held it in plain text.
      expect(answersBefore).not.toContain(result.seed!);
      const stored = await test.platform.db.execute(
        sql`select seed_sealed from lotteries where collection_id = ${collection.id}`,
      );
      const sealed = (stored as unknown as { rows: { seed_sealed: string }[] }).rows[0]!.seed_sealed;
      expect(sealed).toMatch(/^v1\./);
      expect(sealed).not.toContain(result.seed!);
      // The anchor is the first block at or after the fixed time (10 s blocks from 00:00 UTC).
      const expectedBlock = Math.ceil((drawAt.getTime() - Date.parse("2026-11-24T00:00:00Z")) / 10_000);
      expect(result.blockNumber).toBe(expectedBlock);

      // Anyone recomputes the winners from the published JSON alone.
      const json = JSON.parse(JSON.stringify(result)) as PublishedLottery;
      const check = verifyLottery(json);
      expect(check).toMatchObject({ match: true, problems: [] });
      const standings = await Promise.all(
        people.map((p) => p.caller.lottery.standing({ collectionId: collection.id })),
      );
      expect(standings.filter((s) => s?.won).length).toBe(3);
      expect(
        result.entries
          .filter((e) => e.won)
          .map((e) => e.commitment)
          .sort(),
      ).toEqual([...check.winners].sort());

      // Tampering with the seed, the entry list, the block or the marked winners is detected.
      const otherSeed = "0".repeat(64);
      expect(verifyLottery({ ...json, seed: otherSeed }).problems).toContain("the seed does not match its commitment");
      expect(verifyLottery({ ...json, entries: json.entries.slice(1) }).match).toBe(false);
      const extra = { commitment: `0x${"f".repeat(64)}`, won: false };
      expect(verifyLottery({ ...json, entries: [...json.entries, extra] }).problems).toContain(
        "the entry list does not match its hash",
      );
      expect(verifyLottery({ ...json, blockHash: ANCHOR }).match).toBe(false);
      const flipped = json.entries.map((e, i) => (i === 0 ? { ...e, won: !e.won } : e));
      expect(verifyLottery({ ...json, entries: flipped }).problems).toContain(
        "the entries marked as won are not the recomputed winners",
      );

      // The result is stored once: the database itself refuses a second one.
      const lottery = await test.platform.lottery.lotteryOf(test.platform.db, collection.id);
      await expect(
        test.platform.db.execute(
          sql`insert into lottery_draws (lottery_id, seed, block_number, block_hash, entries_hash, entry_count, winners_hash, drawn_at)
              values (${lottery!.id}, 'x', 1, 'x', 'x', 0, 'x', now())`,
        ),
      ).rejects.toThrow();
    });

    it("waits for a block after the draw time, and an operator's later draw gives the scheduler's result", async () => {
      const collection = await publishedCollection(test, { editionSize: 10, perPersonLimit: 1, startsInMs: 3_600_000 });
      const ops = await operator();
      const drawAt = new Date(test.clock.now().getTime() + 600_005);
      await ops.lottery.open({ collectionId: collection.id, registrationEndsAt: drawAt, winnersCount: 2 });
      for (let i = 0; i < 4; i++) {
        const person = await verifiedCollector(test);
        await person.caller.lottery.register({ collectionId: collection.id });
      }
      // At the draw time no block has that timestamp yet (the next comes 5 s later): nothing is written.
      test.clock.set(drawAt);
      await expectAppError(ops.lottery.draw({ collectionId: collection.id }), "lottery.anchorPending");
      expect(await test.platform.lottery.drawDue(test.platform.db)).toBe(0);
      expect((await ops.lottery.result({ collectionId: collection.id }))!.drawn).toBe(false);

      // An hour later an operator triggers it: the anchor is still the first block after the draw time.
      test.clock.advance(3_600_000);
      await ops.lottery.draw({ collectionId: collection.id });
      const result = (await ops.lottery.result({ collectionId: collection.id }))!;
      expect(result.blockNumber).toBe(Math.ceil((drawAt.getTime() - Date.parse("2026-11-24T00:00:00Z")) / 10_000));
      expect(verifyLottery(result as PublishedLottery).match).toBe(true);
    });
  });
}
