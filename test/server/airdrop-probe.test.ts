import { afterEach, beforeEach, describe, expect, it } from "vitest";

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

/**
 * studio.airdropCheck is no phone-number probe: operators', staff and unknown numbers all "cannot receive"
 * (masked, no role told), checks are limited per staff account per hour, and an issuer gets a bounded number
 * of "cannot receive" answers per day.
 */
for (const database of databasesUnderTest()) {
  describe(`airdrop list checks as a probe (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database, {
        env: { AIRDROP_CHECKS_PER_HOUR: "5", AIRDROP_REFUSED_ENTRIES_PER_DAY: "20" },
      });
    });
    afterEach(async () => {
      await test.close();
    });

    async function staffOf(issuerId: number) {
      const person = await login(test);
      await test.platform.identity.assignIssuerStaff(test.platform.db, person.user.id, issuerId);
      return (await callerFor(test.platform, { token: person.token })).caller;
    }

    it("answers operators', staff and unknown numbers alike, masked: cannot receive", async () => {
      const collection = await publishedCollection(test, { editionSize: 5 });
      const staff = await staffOf(collection.issuerId);
      const operator = await login(test);
      await promote(test.platform, operator.user.id, "operator");
      const otherStaff = await login(test);
      await promote(test.platform, otherStaff.user.id, "issuer_staff");
      const collector = await verifiedCollector(test);
      const report = await staff.studio.airdropCheck({
        collectionId: collection.id,
        recipients: [operator.phone, otherStaff.phone, "13900000001", collector.phone],
      });
      expect(report.problems.map((p) => p.problem)).toEqual(["cannotReceive", "cannotReceive", "cannotReceive"]);
      expect(report.ready).toHaveLength(1);
      const text = JSON.stringify(report);
      expect(text).not.toContain("notCollector");
      expect(text).not.toContain(operator.phone);
      expect(text).not.toContain(otherStaff.phone);
    });

    it("limits checks per staff account, and 'cannot receive' answers per issuer", async () => {
      const collection = await publishedCollection(test, { editionSize: 5 });
      const staff = await staffOf(collection.issuerId);
      const collector = await verifiedCollector(test);
      for (let i = 0; i < 5; i++)
        await staff.studio.airdropCheck({ collectionId: collection.id, recipients: [collector.phone] });
      await expectAppError(
        staff.studio.airdropCheck({ collectionId: collection.id, recipients: [collector.phone] }),
        "auth.rateLimited",
        "TOO_MANY_REQUESTS",
      );

      // Thousands of guessed numbers in a row: refused once the issuer's answers are spent, whoever asks.
      const guesses = Array.from({ length: 3000 }, (_, i) => `139${String(10_000_000 + i).slice(-8)}`);
      const colleague = await staffOf(collection.issuerId);
      await expectAppError(
        colleague.studio.airdropCheck({ collectionId: collection.id, recipients: guesses }),
        "auth.rateLimited",
      );
      const third = await staffOf(collection.issuerId);
      await expectAppError(
        third.studio.airdropCheck({ collectionId: collection.id, recipients: ["13900000002"] }),
        "auth.rateLimited",
      );
    });
  });
}
