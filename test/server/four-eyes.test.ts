import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  login,
  pngBytes,
  promote,
} from "./helpers.js";

/** Nobody approves their own issuer application or their own collection (four eyes on every review). */

const DAY = 86_400_000;

for (const database of databasesUnderTest()) {
  describe(`four eyes on reviews (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    async function operator() {
      const person = await login(test);
      await promote(test.platform, person.user.id, "operator");
      return (await callerFor(test.platform, { token: person.token })).caller;
    }

    it("refuses an operator the issuer application they filed; another operator decides it", async () => {
      const person = await login(test);
      const applied = await person.caller.issuer.submitApplication({
        legalName: "某某博物馆",
        creditCode: "91350100M000100Y43",
      });
      await promote(test.platform, person.user.id, "operator");
      const { caller: self } = await callerFor(test.platform, { token: person.token });
      await expectAppError(
        self.issuer.review({ issuerId: applied.id, approve: true }),
        "review.ownSubmission",
        "FORBIDDEN",
      );
      await expectAppError(
        self.issuer.review({ issuerId: applied.id, approve: false, reason: "撤回" }),
        "review.ownSubmission",
      );
      const other = await operator();
      expect((await other.issuer.review({ issuerId: applied.id, approve: true })).status).toBe("approved");
    });

    it("refuses a reviewer the collection they drafted or submitted; another operator decides it", async () => {
      const person = await login(test);
      const issuerId = (await promote(test.platform, person.user.id, "issuer_staff"))!;
      const { caller: staff } = await callerFor(test.platform, { token: person.token });
      const media = await test.platform.catalog.registerMedia(test.platform.db, issuerId, pngBytes());
      const now = test.clock.now().getTime();
      const draft = await staff.studio.createDraft({
        title: "自审藏品",
        description: "d",
        creator: "c",
        story: "s",
        mediaSha256: media.sha256,
        editionSize: 10,
        priceFen: 1990,
        saleStartsAt: new Date(now + DAY),
        saleEndsAt: new Date(now + 8 * DAY),
        perPersonLimit: 2,
        lockDays: 180,
        regiftDays: 730,
      });
      await staff.studio.submit({ collectionId: draft.id });
      // The author becomes an operator: still not the one to review their own work.
      await promote(test.platform, person.user.id, "operator");
      const { caller: self } = await callerFor(test.platform, { token: person.token });
      await expectAppError(
        self.review.decide({ collectionId: draft.id, approve: true }),
        "review.ownSubmission",
        "FORBIDDEN",
      );
      const other = await operator();
      expect((await other.review.decide({ collectionId: draft.id, approve: true })).status).toBe("approved");
    });
  });
}
