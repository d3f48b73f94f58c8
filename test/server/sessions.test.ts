import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  login,
  promote,
  stepUp,
} from "./helpers.js";

/**
 * Sessions end at an absolute lifetime and after an idle timeout, by the role held now (defaults: collectors
 * 7 days / 24 hours idle; issuer staff and operators 12 hours / 30 minutes idle), on every request; and every
 * tRPC answer (account, KYC status, data export…) carries Cache-Control: no-store.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

for (const database of databasesUnderTest()) {
  describe(`session lifetimes (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    const resolves = async (token: string) =>
      (await test.platform.identity.resolveSession(test.platform.db, token)) !== null;

    it("ends an operator's session after 30 idle minutes, and after 12 hours however active", async () => {
      const idle = await login(test);
      await promote(test.platform, idle.user.id, "operator");
      test.clock.advance(29 * MINUTE);
      expect(await resolves(idle.token)).toBe(true);
      test.clock.advance(31 * MINUTE);
      expect(await resolves(idle.token)).toBe(false);
      // Ended for good: coming back does not revive it.
      test.clock.advance(-40 * MINUTE);
      expect(await resolves(idle.token)).toBe(false);

      const busy = await login(test);
      await promote(test.platform, busy.user.id, "operator");
      for (let elapsed = 0; elapsed < 12 * HOUR - 20 * MINUTE; elapsed += 20 * MINUTE) {
        test.clock.advance(20 * MINUTE);
        expect(await resolves(busy.token)).toBe(true);
      }
      test.clock.advance(20 * MINUTE);
      expect(await resolves(busy.token)).toBe(false);
      const { caller } = await callerFor(test.platform, { token: busy.token });
      expect(await caller.auth.me()).toBeNull();
    });

    it("gives collectors a longer session: a day idle, a week at most", async () => {
      const idle = await login(test);
      test.clock.advance(23 * HOUR);
      expect(await resolves(idle.token)).toBe(true);
      test.clock.advance(24 * HOUR + MINUTE);
      expect(await resolves(idle.token)).toBe(false);

      const daily = await login(test);
      for (let visit = 1; visit <= 8; visit++) {
        test.clock.advance(20 * HOUR);
        expect(await resolves(daily.token)).toBe(true);
      }
      test.clock.advance(20 * HOUR);
      expect(await resolves(daily.token)).toBe(false);
    });

    it("applies the role held now: a collector promoted to operator gets the operator's limits", async () => {
      const person = await login(test);
      test.clock.advance(2 * HOUR);
      expect(await resolves(person.token)).toBe(true);
      await promote(test.platform, person.user.id, "operator");
      test.clock.advance(31 * MINUTE);
      expect(await resolves(person.token)).toBe(false);
    });

    it("writes a session's touch to the database within a second or so, off the request's path", async () => {
      const person = await login(test);
      const lastSeen = async () => {
        const [row] = await test.platform.identity.listSessions(test.platform.db, person.user.id);
        return row!.lastSeenAt.getTime();
      };
      const before = await lastSeen();
      test.clock.advance(2 * HOUR);
      expect(await resolves(person.token)).toBe(true);
      // Another instance (here: the database itself) learns of the touch when the waiting touches are written.
      await expect.poll(lastSeen, { timeout: 5_000, interval: 100 }).toBe(before + 2 * HOUR);
      // Read again within the touch interval: nothing more to write.
      test.clock.advance(MINUTE);
      expect(await resolves(person.token)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(await lastSeen()).toBe(before + 2 * HOUR);
    });

    it("follows the configured limits", async () => {
      const short = await createTestPlatform(database, { env: { SESSION_IDLE_MINUTES: "10" } });
      try {
        const person = await login(short);
        short.clock.advance(11 * MINUTE);
        expect(await short.platform.identity.resolveSession(short.platform.db, person.token)).toBeNull();
      } finally {
        await short.close();
      }
    });

    it("answers personal data with Cache-Control: no-store", async () => {
      const app = await buildHttpApp(test.platform, { logger: false });
      try {
        const person = await login(test);
        await stepUp(test, person.caller, "export");
        for (const path of ["auth.me", "kyc.status"]) {
          const answer = await app.inject({ url: `/trpc/${path}`, cookies: { sid: person.token } });
          expect(answer.statusCode, path).toBe(200);
          expect(answer.headers["cache-control"], path).toBe("no-store");
        }
        const exported = await app.inject({
          method: "POST",
          url: "/trpc/privacy.exportMyData",
          cookies: { sid: person.token, csrf: "csrf-token-for-the-test-0000" },
          headers: { "content-type": "application/json", "x-csrf-token": "csrf-token-for-the-test-0000" },
          payload: "{}",
        });
        expect(exported.statusCode).toBe(200);
        expect(exported.json()).toMatchObject({ result: { data: { account: expect.anything() } } });
        expect(exported.headers["cache-control"]).toBe("no-store");
      } finally {
        await app.close();
      }
    });
  });
}
