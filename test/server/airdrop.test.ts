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

for (const database of databasesUnderTest()) {
  describe(`airdrops (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    /** Staff of the collection's own issuer. */
    async function staffOf(issuerId: number) {
      const person = await login(test);
      await test.platform.identity.assignIssuerStaff(test.platform.db, person.user.id, issuerId);
      return (await callerFor(test.platform, { token: person.token })).caller;
    }

    it("reports every entry that cannot receive, masked, and refuses to run on such a list", async () => {
      const collection = await publishedCollection(test, { editionSize: 5 });
      const staff = await staffOf(collection.issuerId);
      const verified = await verifiedCollector(test);
      const unverified = await login(test);
      const report = await staff.studio.airdropCheck({
        collectionId: collection.id,
        recipients: [verified.phone, String(verified.user.id), unverified.phone, "13900000000", "not-a-phone"],
      });
      expect(report.ready).toEqual([
        {
          entry: `${verified.phone.slice(0, 3)}****${verified.phone.slice(-4)}`,
          phoneMasked: verified.user.phoneMasked,
        },
      ]);
      // Unverified and unknown alike "cannot receive": the check does not tell who holds which account.
      expect(report.problems.map((p) => p.problem)).toEqual([
        "duplicate",
        "cannotReceive",
        "cannotReceive",
        "malformed",
      ]);
      expect(JSON.stringify(report)).not.toContain(unverified.phone);
      await expectAppError(
        staff.studio.airdrop({ collectionId: collection.id, recipients: [verified.phone, unverified.phone] }),
        "airdrop.listHasProblems",
        "PRECONDITION_FAILED",
      );
      expect((await staff.drops.stock({ collectionId: collection.id })).available).toBe(5);
    });

    it("gives one free edition to each person on a clean list, out of the supply, each with a mint job", async () => {
      const collection = await publishedCollection(test, { editionSize: 5 });
      const staff = await staffOf(collection.issuerId);
      const people = [await verifiedCollector(test), await verifiedCollector(test), await verifiedCollector(test)];
      const done = await staff.studio.airdrop({ collectionId: collection.id, recipients: people.map((p) => p.phone) });
      expect(done).toMatchObject({ recipients: 3 });
      expect(await staff.drops.stock({ collectionId: collection.id })).toMatchObject({ sold: 3, available: 2 });
      expect(await staff.studio.airdropProgress({ airdropId: done.airdropId })).toEqual({
        airdropId: done.airdropId,
        recipients: 3,
        jobs: { pending: 3 },
      });
      const [order] = await people[0]!.caller.orders.mine();
      expect(order).toMatchObject({ status: "paid", amountFen: 0, quantity: 1 });
      // The sales panel counts airdrops apart: no sale, no paid order, no revenue.
      expect(await staff.studio.sales({ collectionId: collection.id })).toMatchObject({
        soldEditions: 0,
        airdroppedEditions: 3,
        paidOrders: 0,
        revenueFen: 0,
      });
    });

    it("refuses more recipients than editions left, and another issuer's collection", async () => {
      const collection = await publishedCollection(test, { editionSize: 1 });
      const staff = await staffOf(collection.issuerId);
      const people = [await verifiedCollector(test), await verifiedCollector(test)];
      await expectAppError(
        staff.studio.airdrop({ collectionId: collection.id, recipients: people.map((p) => p.phone) }),
        "drop.soldOut",
      );
      expect((await staff.drops.stock({ collectionId: collection.id })).available).toBe(1);
      const other = await publishedCollection(test);
      const otherStaff = await staffOf(other.issuerId);
      await expectAppError(
        otherStaff.studio.airdrop({ collectionId: collection.id, recipients: [people[0]!.phone] }),
        "collection.notFound",
        "NOT_FOUND",
      );
      await expectAppError(otherStaff.studio.airdropProgress({ airdropId: 1 }), "airdrop.notFound");
    });
  });
}
