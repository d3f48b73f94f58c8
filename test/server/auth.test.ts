import { afterEach, beforeEach, describe, expect, it } from "vitest";

import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  expectInputError,
  login,
  newPhone,
  promote,
  waitForResend,
} from "./helpers.js";

for (const database of databasesUnderTest()) {
  describe(`phone login and sessions (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      // The production per-address hourly code limit, which "rate-limits code requests per number and per IP" reaches.
      test = await createTestPlatform(database, { env: { OTP_HOURLY_LIMIT_PER_IP: "30" } });
    });
    afterEach(async () => {
      await test.close();
    });

    it("logs in with the 6-digit code, creating the account, and sets an httpOnly session", async () => {
      const phone = newPhone();
      const { caller, jar } = await callerFor(test.platform);
      expect(await caller.auth.requestCode({ phone })).toEqual({ resendAfterSeconds: 1, ttlSeconds: 300 });
      const code = test.codes.get(phone)!;
      expect(code).toMatch(/^\d{6}$/);
      const user = await caller.auth.login({ phone, code });
      expect(user).toMatchObject({ role: "collector", phoneMasked: `${phone.slice(0, 3)}****${phone.slice(-4)}` });
      expect(jar.session).toMatch(/^[\w-]{43}$/);
      const { caller: authed } = await callerFor(test.platform, { token: jar.session });
      expect(await authed.auth.me()).toEqual(user);
    });

    it("refuses an invalid phone number and a malformed code before doing anything", async () => {
      const { caller } = await callerFor(test.platform);
      await expectInputError(caller.auth.requestCode({ phone: "12345" }), "auth.phone.invalid");
      await expectInputError(caller.auth.login({ phone: newPhone(), code: "12ab56" }), "auth.code.invalid");
      expect(test.codes.size).toBe(0);
    });

    it("expires a code after 5 minutes and spends it after one use", async () => {
      const phone = newPhone();
      const { caller } = await callerFor(test.platform);
      await caller.auth.requestCode({ phone });
      const code = test.codes.get(phone)!;
      test.clock.advance(5 * 60_000);
      await expectAppError(caller.auth.login({ phone, code }), "auth.code.expired", "UNAUTHORIZED");

      await waitForResend();
      await caller.auth.requestCode({ phone });
      const fresh = test.codes.get(phone)!;
      test.clock.advance(5 * 60_000 - 1000);
      await caller.auth.login({ phone, code: fresh });
      await expectAppError(caller.auth.login({ phone, code: fresh }), "auth.code.expired");
    });

    it("locks the number for 15 minutes after 5 wrong codes", async () => {
      const phone = newPhone();
      const { caller } = await callerFor(test.platform);
      await caller.auth.requestCode({ phone });
      const code = test.codes.get(phone)!;
      const wrong = code === "000000" ? "111111" : "000000";
      for (let left = 4; left >= 1; left--) {
        const error = await expectAppError(
          caller.auth.login({ phone, code: wrong }),
          "auth.code.wrong",
          "UNAUTHORIZED",
        );
        expect(error.cause).toMatchObject({ params: { attemptsLeft: left } });
      }
      await expectAppError(caller.auth.login({ phone, code: wrong }), "auth.locked", "TOO_MANY_REQUESTS");
      // Even the right code and a new code are refused while locked.
      await expectAppError(caller.auth.login({ phone, code }), "auth.locked");
      await expectAppError(caller.auth.requestCode({ phone }), "auth.locked");
      test.clock.advance(15 * 60_000);
      await waitForResend();
      await caller.auth.requestCode({ phone });
      await caller.auth.login({ phone, code: test.codes.get(phone)! });
    });

    it("rate-limits code requests per number and per IP", async () => {
      const phone = newPhone();
      const { caller } = await callerFor(test.platform, { ip: "10.1.1.1" });
      await caller.auth.requestCode({ phone });
      await expectAppError(caller.auth.requestCode({ phone }), "auth.rateLimited", "TOO_MANY_REQUESTS");

      const { caller: flooder } = await callerFor(test.platform, { ip: "10.9.9.9" });
      for (let i = 0; i < 30; i++) await flooder.auth.requestCode({ phone: newPhone() });
      await expectAppError(flooder.auth.requestCode({ phone: newPhone() }), "auth.rateLimited");
      const { caller: other } = await callerFor(test.platform, { ip: "10.9.9.8" });
      await other.auth.requestCode({ phone: newPhone() });
    });

    it("issues a new session at every login (no fixation), lists sessions and revokes them", async () => {
      const first = await login(test);
      await waitForResend();
      const second = await login(test, first.phone);
      expect(second.token).not.toBe(first.token);
      const sessions = await second.caller.auth.sessions();
      expect(sessions).toHaveLength(2);
      expect(sessions.filter((s) => s.current)).toHaveLength(1);

      const other = sessions.find((s) => !s.current)!;
      await second.caller.auth.revokeSession({ sessionId: other.id });
      expect(await test.platform.identity.resolveSession(test.platform.db, first.token)).toBeNull();
      await expectAppError(
        second.caller.auth.revokeSession({ sessionId: other.id }),
        "auth.session.notFound",
        "NOT_FOUND",
      );

      // A login from a browser that already had a session replaces it.
      const { caller, jar } = await callerFor(test.platform, { token: second.token });
      await caller.auth.requestCode({ phone: newPhone() });
      const phone = [...test.codes.keys()].at(-1)!;
      await caller.auth.login({ phone, code: test.codes.get(phone)! });
      expect(jar.session).not.toBe(second.token);
      expect(await test.platform.identity.resolveSession(test.platform.db, second.token)).toBeNull();
    });

    it("logs out: the session stops working and the cookie is cleared", async () => {
      const { token } = await login(test);
      const { caller, jar } = await callerFor(test.platform, { token });
      jar.session = token;
      await caller.auth.logout();
      expect(jar.session).toBeNull();
      const { caller: after } = await callerFor(test.platform, { token });
      expect(await after.auth.me()).toBeNull();
      await expectAppError(after.auth.sessions(), "auth.required", "UNAUTHORIZED");
    });

    it("refuses mutations without the CSRF token, even for a logged-in user", async () => {
      const { token } = await login(test);
      const { caller } = await callerFor(test.platform, { token, csrfValid: false });
      await expectAppError(caller.auth.logout(), "auth.csrf", "FORBIDDEN");
      await expectAppError(caller.auth.requestCode({ phone: newPhone() }), "auth.csrf", "FORBIDDEN");
      expect(await caller.auth.me()).not.toBeNull();
    });

    it("enforces roles through the base procedures", async () => {
      const collector = await login(test);
      await expectAppError(collector.caller.audit.verify(), "auth.forbidden", "FORBIDDEN");
      const { caller: anonymous } = await callerFor(test.platform);
      await expectAppError(anonymous.audit.verify(), "auth.required", "UNAUTHORIZED");
      await expectAppError(anonymous.kyc.status(), "auth.required", "UNAUTHORIZED");

      const operator = await login(test);
      await promote(test.platform, operator.user.id, "operator");
      const { caller: asOperator } = await callerFor(test.platform, { token: operator.token });
      expect((await asOperator.audit.verify()).ok).toBe(true);
      await expectAppError(asOperator.kyc.status(), "auth.forbidden", "FORBIDDEN");

      const staff = await login(test);
      await promote(test.platform, staff.user.id, "issuer_staff");
      const { caller: asStaff } = await callerFor(test.platform, { token: staff.token });
      await expectAppError(asStaff.audit.verify(), "auth.forbidden");
      expect(await asStaff.auth.me()).toMatchObject({ role: "issuer_staff" });
    });

    it("stores phone numbers only as a keyed hash, a sealed value and a masked form", async () => {
      const { phone } = await login(test);
      const { sql } = await import("drizzle-orm");
      const rows = await test.platform.db.execute(sql`select * from users`);
      expect(JSON.stringify(rows)).not.toContain(phone);
    });
  });
}
