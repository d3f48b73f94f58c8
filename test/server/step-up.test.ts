import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  login,
  makeIdNumber,
  stepUp,
  verifiedCollector,
  waitForResend,
} from "./helpers.js";

/**
 * Step-up: the data export (it carries the full ID number), a gift and a real-name submission need a fresh
 * SMS code confirmed by the very session that acts, for that purpose, within STEP_UP_WINDOW_MINUTES (5 by
 * default); a gift spends its code. Wrong codes count on the number's login lockout.
 */

const MINUTE = 60_000;
const NAME = "张晓明";
const ID = makeIdNumber("19900307", "110101", "456");

for (const database of databasesUnderTest()) {
  describe(`step-up (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    it("refuses the export, a real-name submission and a gift without a step-up, changing nothing", async () => {
      const person = await login(test);
      const refused = await expectAppError(person.caller.privacy.exportMyData(), "auth.stepUpRequired", "FORBIDDEN");
      expect(refused.cause).toMatchObject({ params: { purpose: "export" } });
      await expectAppError(person.caller.kyc.submit({ name: NAME, idNumber: ID }), "auth.stepUpRequired", "FORBIDDEN");
      expect(await person.caller.kyc.status()).toEqual({ state: "unverified" });
      const sender = await verifiedCollector(test);
      await expectAppError(
        sender.caller.gifts.send({ collectionId: 1, tokenId: 1, recipient: person.phone, confirmNameMasked: "张**" }),
        "auth.stepUpRequired",
        "FORBIDDEN",
      );
    });

    it("sends the code to the account's own number and lets the session act for the window", async () => {
      const person = await login(test);
      test.codes.delete(person.phone);
      const sent = await person.caller.auth.requestStepUp({ purpose: "kyc" });
      expect(sent).toEqual({ resendAfterSeconds: 1, ttlSeconds: 300 });
      const code = test.codes.get(person.phone)!;
      expect(code).toMatch(/^\d{6}$/);
      const granted = await person.caller.auth.confirmStepUp({ purpose: "kyc", code });
      expect(granted).toEqual({
        purpose: "kyc",
        validUntil: new Date(test.clock.now().getTime() + 5 * MINUTE),
        singleUse: false,
      });
      // Reusable within the window: a refused submission can be corrected and sent again.
      await expectAppError(
        person.caller.kyc.submit({ name: "李四", idNumber: makeIdNumber("20100101") }),
        "kyc.underage",
      );
      expect((await person.caller.kyc.submit({ name: NAME, idNumber: ID })).state).toBe("verified");

      await stepUp(test, person.caller, "export");
      test.clock.advance(4 * MINUTE);
      expect((await person.caller.privacy.exportMyData()).identity).toEqual({ name: NAME, idNumber: ID });
      test.clock.advance(MINUTE);
      await expectAppError(person.caller.privacy.exportMyData(), "auth.stepUpRequired", "FORBIDDEN");
    });

    it("refuses a step-up confirmed for another purpose or by another session of the same account", async () => {
      const person = await login(test);
      await stepUp(test, person.caller, "export");
      await expectAppError(person.caller.kyc.submit({ name: NAME, idNumber: ID }), "auth.stepUpRequired", "FORBIDDEN");
      await waitForResend();
      const elsewhere = await login(test, person.phone);
      await expectAppError(elsewhere.caller.privacy.exportMyData(), "auth.stepUpRequired", "FORBIDDEN");
      // The code of one session does not confirm another's step-up either.
      await elsewhere.caller.auth.requestStepUp({ purpose: "kyc" });
      const code = test.codes.get(person.phone)!;
      await expectAppError(
        person.caller.auth.confirmStepUp({ purpose: "kyc", code }),
        "auth.code.expired",
        "UNAUTHORIZED",
      );
      // Nor does a code asked for one purpose confirm another.
      await expectAppError(elsewhere.caller.auth.confirmStepUp({ purpose: "export", code }), "auth.code.expired");
      expect(await elsewhere.caller.auth.confirmStepUp({ purpose: "kyc", code })).toMatchObject({ purpose: "kyc" });
      // And a code is spent once.
      await expectAppError(elsewhere.caller.auth.confirmStepUp({ purpose: "kyc", code }), "auth.code.expired");
    });

    it("never takes a login code for a step-up code, nor the reverse", async () => {
      const anonymous = await callerFor(test.platform);
      const person = await login(test);
      await waitForResend();
      await anonymous.caller.auth.requestCode({ phone: person.phone });
      const loginCode = test.codes.get(person.phone)!;
      await person.caller.auth.requestStepUp({ purpose: "export" });
      const stepUpCode = test.codes.get(person.phone)!;
      // (The two codes may coincide by chance, one in a million: then this run proves nothing, so re-draw.)
      if (loginCode === stepUpCode) return;
      await expectAppError(
        person.caller.auth.confirmStepUp({ purpose: "export", code: loginCode }),
        "auth.code.wrong",
        "UNAUTHORIZED",
      );
      await expectAppError(anonymous.caller.auth.login({ phone: person.phone, code: stepUpCode }), "auth.code.wrong");
      // Both are still good for what they were sent for.
      expect(await person.caller.auth.confirmStepUp({ purpose: "export", code: stepUpCode })).toMatchObject({
        purpose: "export",
      });
      expect((await anonymous.caller.auth.login({ phone: person.phone, code: loginCode })).id).toBe(person.user.id);
    });

    it("counts wrong step-up codes on the number's login lockout", async () => {
      const person = await login(test);
      const anonymous = await callerFor(test.platform);
      await waitForResend();
      await anonymous.caller.auth.requestCode({ phone: person.phone });
      const loginCode = test.codes.get(person.phone)!;
      await person.caller.auth.requestStepUp({ purpose: "export" });
      const code = test.codes.get(person.phone)!;
      const wrong = code === "000000" ? "000001" : "000000";
      const wrongLogin = loginCode === "000000" ? "000001" : "000000";
      // Two wrong login codes and three wrong step-up codes make the default five.
      await expectAppError(anonymous.caller.auth.login({ phone: person.phone, code: wrongLogin }), "auth.code.wrong");
      await expectAppError(anonymous.caller.auth.login({ phone: person.phone, code: wrongLogin }), "auth.code.wrong");
      const first = await expectAppError(
        person.caller.auth.confirmStepUp({ purpose: "export", code: wrong }),
        "auth.code.wrong",
      );
      expect(first.cause).toMatchObject({ params: { attemptsLeft: 2 } });
      await expectAppError(person.caller.auth.confirmStepUp({ purpose: "export", code: wrong }), "auth.code.wrong");
      await expectAppError(
        person.caller.auth.confirmStepUp({ purpose: "export", code: wrong }),
        "auth.locked",
        "TOO_MANY_REQUESTS",
      );
      // Locked for login and step-up alike, and the codes that were out are void.
      await expectAppError(person.caller.auth.confirmStepUp({ purpose: "export", code }), "auth.locked");
      await expectAppError(anonymous.caller.auth.login({ phone: person.phone, code: loginCode }), "auth.locked");
      await expectAppError(person.caller.auth.requestStepUp({ purpose: "kyc" }), "auth.locked");
      test.clock.advance(16 * MINUTE);
      await expectAppError(person.caller.auth.confirmStepUp({ purpose: "export", code }), "auth.code.expired");
      await expectAppError(person.caller.privacy.exportMyData(), "auth.stepUpRequired");
    });

    it("ends a step-up with its session: after logout the old session can do nothing", async () => {
      const person = await login(test);
      await stepUp(test, person.caller, "export");
      await person.caller.auth.logout();
      const { caller } = await callerFor(test.platform, { token: person.token });
      await expectAppError(caller.privacy.exportMyData(), "auth.required", "UNAUTHORIZED");
      await expectAppError(caller.auth.requestStepUp({ purpose: "export" }), "auth.required", "UNAUTHORIZED");
    });

    it("spends a gift's step-up once, even when two gifts race for it; a refused gift gives it back", async () => {
      const sender = await verifiedCollector(test);
      const friend = await verifiedCollector(test);
      await stepUp(test, sender.caller, "gift");
      const gift = () =>
        sender.caller.gifts.send({
          collectionId: 999_999,
          tokenId: 1,
          recipient: friend.phone,
          confirmNameMasked: "王**",
        });
      // Refused by the gift rules (no chain here, no such collectible): nothing changed, the step-up is kept.
      const refusal = await gift().then(
        () => "sent",
        (error: Error) => error.message,
      );
      expect(refusal).not.toBe("auth.stepUpRequired");
      expect(
        await gift().then(
          () => "sent",
          (error: Error) => error.message,
        ),
      ).toBe(refusal);

      const { identity, db } = test.platform;
      const sessionId = identity.sessionIdOf(sender.token);
      const spends = await Promise.all([1, 2, 3].map(() => identity.spendStepUp(db, sessionId, "gift")));
      expect(spends.filter((spent) => spent !== null)).toHaveLength(1);
      await expectAppError(gift(), "auth.stepUpRequired", "FORBIDDEN");
      // A code confirms at most one gift: an export step-up is no gift step-up either.
      await stepUp(test, sender.caller, "export");
      await expectAppError(gift(), "auth.stepUpRequired");
    });

    it("refuses bad step-up input with a clear 400 and sends nothing", async () => {
      const person = await login(test);
      test.codes.delete(person.phone);
      await expect(person.caller.auth.requestStepUp({ purpose: "login" as "export" })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      expect(test.codes.has(person.phone)).toBe(false);
      await expect(person.caller.auth.confirmStepUp({ purpose: "export", code: "12ab56" })).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      const { caller: anonymous } = await callerFor(test.platform);
      await expectAppError(anonymous.auth.requestStepUp({ purpose: "export" }), "auth.required", "UNAUTHORIZED");
      const noCsrf = await callerFor(test.platform, { token: person.token, csrfValid: false });
      await expectAppError(noCsrf.caller.auth.requestStepUp({ purpose: "export" }), "auth.csrf", "FORBIDDEN");
    });
  });
}
