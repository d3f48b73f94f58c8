import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { verifyAuditChain } from "../../server/modules/audit/service.js";
import { SANDBOX_MISMATCH_NAME, SANDBOX_UNAVAILABLE_NAME } from "../../server/providers/kyc/sandbox.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  expectInputError,
  login,
  makeIdNumber,
  stepUp,
} from "./helpers.js";

const NAME = "张晓明";
const ID = makeIdNumber("19900307", "110101", "123"); // an adult on the test clock (24 November 2026)

/** Every row of every table of the platform, as text. */
async function everyTableAsText(test: TestPlatform): Promise<string> {
  const tables = (await test.platform.db.execute(
    sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
  )) as unknown as { rows: { table_name: string }[] };
  let text = "";
  for (const { table_name } of tables.rows) {
    const rows = await test.platform.db.execute(sql.raw(`select * from "${table_name}"`));
    text += JSON.stringify(rows);
  }
  return text;
}

for (const database of databasesUnderTest()) {
  describe(`real-name verification (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    it("verifies a collector, shows only masked data, gives a custodial address and queues the chain binding", async () => {
      const { caller, user } = await login(test);
      await stepUp(test, caller, "kyc");
      expect(await caller.kyc.status()).toEqual({ state: "unverified" });
      const status = await caller.kyc.submit({ name: NAME, idNumber: ID });
      expect(status).toMatchObject({
        state: "verified",
        nameMasked: "张**",
        idNumberMasked: `${ID.slice(0, 4)}**********${ID.slice(-4)}`,
        level: 1,
        onChain: false,
      });
      expect(status.address).toBe(test.platform.custody.collectorAddress(user.id));
      expect(status.expiresAt!.getTime() - test.clock.now().getTime()).toBe(365 * 86_400_000);
      // Renewal opens 30 days before expiry: the storefront shows that date instead of a button refused until then.
      expect(status.expiresAt!.getTime() - status.renewableFrom!.getTime()).toBe(30 * 86_400_000);
      expect(JSON.stringify(status)).not.toContain(ID);
      expect(await test.platform.kyc.isVerified(test.platform.db, user.id)).toBe(true);

      const bindings = (await test.platform.db.execute(sql`select * from registry_bindings`)) as unknown as {
        rows: { status: string; address: string; commitment: string }[];
      };
      expect(bindings.rows).toEqual([
        expect.objectContaining({
          status: "pending",
          address: status.address,
          commitment: test.platform.kyc.commitmentFor(ID),
        }),
      ]);
      const audit = await verifyAuditChain(test.platform.db);
      expect(audit).toMatchObject({ ok: true, rows: 1 });
    });

    it("keeps no plaintext name or ID number in any table", async () => {
      const { caller } = await login(test);
      await stepUp(test, caller, "kyc");
      await caller.kyc.submit({ name: NAME, idNumber: ID.toLowerCase() });
      const everything = await everyTableAsText(test);
      expect(everything).not.toContain(NAME);
      expect(everything).not.toContain(ID);
      expect(everything).not.toContain(ID.slice(6, 14)); // not even the birth date
    });

    it("computes a stable commitment of the normalised ID number", async () => {
      const commitment = test.platform.kyc.commitmentFor(ID);
      expect(commitment).toMatch(/^0x[0-9a-f]{64}$/);
      expect(test.platform.kyc.commitmentFor(` ${ID.toLowerCase()} `)).toBe(commitment);
      expect(test.platform.kyc.commitmentFor(makeIdNumber("19900307", "110101", "124"))).not.toBe(commitment);
    });

    it("gives a precise refusal for each invalid identity and writes nothing", async () => {
      const { caller } = await login(test);
      await stepUp(test, caller, "kyc");
      await expectInputError(caller.kyc.submit({ name: NAME, idNumber: "12345" }), "kyc.idNumber.format");
      await expectAppError(
        caller.kyc.submit({ name: NAME, idNumber: `${ID.slice(0, 17)}${ID[17] === "0" ? "1" : "0"}` }),
        "kyc.idNumber.checksum",
        "BAD_REQUEST",
      );
      await expectAppError(
        caller.kyc.submit({ name: NAME, idNumber: makeIdNumber("20270101") }),
        "kyc.idNumber.futureBirthDate",
      );
      await expectAppError(
        caller.kyc.submit({ name: NAME, idNumber: makeIdNumber("20010229") }),
        "kyc.idNumber.birthDate",
      );
      await expectAppError(caller.kyc.submit({ name: "Zhang San", idNumber: ID }), "kyc.name.invalid", "BAD_REQUEST");
      expect(await caller.kyc.status()).toEqual({ state: "unverified" });
      const identities = (await test.platform.db.execute(
        sql`select count(*)::int as n from kyc_identities`,
      )) as unknown as {
        rows: { n: number }[];
      };
      expect(identities.rows[0]!.n).toBe(0);
    });

    it("refuses someone one day short of 18 and accepts them on their birthday", async () => {
      const { caller } = await login(test);
      await stepUp(test, caller, "kyc");
      const tomorrow18 = makeIdNumber("20081125");
      await expectAppError(caller.kyc.submit({ name: NAME, idNumber: tomorrow18 }), "kyc.underage", "FORBIDDEN");
      test.clock.advance(86_400_000);
      // The step-up window has long passed too.
      await stepUp(test, caller, "kyc");
      expect((await caller.kyc.submit({ name: NAME, idNumber: tomorrow18 })).state).toBe("verified");
    });

    it("follows a configured age gate", async () => {
      await test.close();
      test = await createTestPlatform(database, { env: { KYC_MIN_AGE: "20" } });
      const { caller } = await login(test);
      await stepUp(test, caller, "kyc");
      await expectAppError(caller.kyc.submit({ name: NAME, idNumber: makeIdNumber("20071124") }), "kyc.underage");
    });

    it("reports a name that does not match and an unavailable provider", async () => {
      const { caller } = await login(test);
      await stepUp(test, caller, "kyc");
      await expectAppError(
        caller.kyc.submit({ name: SANDBOX_MISMATCH_NAME, idNumber: ID }),
        "kyc.nameMismatch",
        "UNPROCESSABLE_CONTENT",
      );
      await expectAppError(
        caller.kyc.submit({ name: SANDBOX_UNAVAILABLE_NAME, idNumber: ID }),
        "kyc.providerUnavailable",
        "SERVICE_UNAVAILABLE",
      );
      expect(await caller.kyc.status()).toEqual({ state: "unverified" });
    });

    it("stops answering an account after 10 refused attempts in 24 hours, and answers again a day later", async () => {
      const { caller } = await login(test);
      await stepUp(test, caller, "kyc");
      for (let i = 0; i < 10; i++) {
        await expectAppError(caller.kyc.submit({ name: SANDBOX_MISMATCH_NAME, idNumber: ID }), "kyc.nameMismatch");
      }
      // Not even the right name is checked now: the answers would make the form an oracle of names and ID numbers.
      await expectAppError(caller.kyc.submit({ name: NAME, idNumber: ID }), "auth.rateLimited", "TOO_MANY_REQUESTS");
      expect(await caller.kyc.status()).toEqual({ state: "unverified" });
      const other = await login(test);
      await stepUp(test, other.caller, "kyc");
      expect((await other.caller.kyc.submit({ name: "李四", idNumber: makeIdNumber("19850101") })).state).toBe(
        "verified",
      );
      test.clock.advance(86_400_000 + 1000);
      // The step-up window has long passed too.
      await stepUp(test, caller, "kyc");
      expect((await caller.kyc.submit({ name: NAME, idNumber: ID })).state).toBe("verified");
    });

    it("binds one identity to one account only", async () => {
      const first = await login(test);
      await stepUp(test, first.caller, "kyc");
      await first.caller.kyc.submit({ name: NAME, idNumber: ID });
      await expectAppError(first.caller.kyc.submit({ name: NAME, idNumber: ID }), "kyc.alreadyVerified", "CONFLICT");
      const second = await login(test);
      await stepUp(test, second.caller, "kyc");
      await expectAppError(second.caller.kyc.submit({ name: NAME, idNumber: ID }), "kyc.identityInUse", "CONFLICT");
    });

    it("renews a verification within 30 days of expiry, not earlier, and queues the renewed binding", async () => {
      const { caller } = await login(test);
      await stepUp(test, caller, "kyc");
      await caller.kyc.submit({ name: NAME, idNumber: ID });
      await expectAppError(caller.kyc.reverify(), "kyc.reverifyTooEarly", "PRECONDITION_FAILED");
      test.clock.advance(340 * 86_400_000);
      const renewed = await caller.kyc.reverify();
      expect(renewed.expiresAt!.getTime()).toBe(test.clock.now().getTime() + 365 * 86_400_000);
      const count = (await test.platform.db.execute(
        sql`select count(*)::int as n from registry_bindings`,
      )) as unknown as {
        rows: { n: number }[];
      };
      expect(count.rows[0]!.n).toBe(2);
    });

    it("lets an expired verification be redone, and stops counting it as verified", async () => {
      const { caller, user } = await login(test);
      await stepUp(test, caller, "kyc");
      await caller.kyc.submit({ name: NAME, idNumber: ID });
      test.clock.advance(366 * 86_400_000);
      // The step-up window has long passed too.
      await stepUp(test, caller, "kyc");
      expect((await caller.kyc.status()).state).toBe("expired");
      expect(await test.platform.kyc.isVerified(test.platform.db, user.id)).toBe(false);
      expect((await caller.kyc.submit({ name: NAME, idNumber: ID })).state).toBe("verified");
    });

    it("exports the person's own data, decrypted for them only", async () => {
      const { caller, phone } = await login(test);
      await stepUp(test, caller, "kyc");
      await caller.kyc.submit({ name: NAME, idNumber: ID });
      await stepUp(test, caller, "export");
      const exported = await caller.privacy.exportMyData();
      expect(exported.account).toMatchObject({ phone, role: "collector" });
      expect(exported.identity).toEqual({ name: NAME, idNumber: ID });
      expect(exported.sessions).toHaveLength(1);
    });

    it("on an erasure request closes the account at once and deletes the identity after the retention period", async () => {
      const { caller, token, user } = await login(test);
      await stepUp(test, caller, "kyc");
      await caller.kyc.submit({ name: NAME, idNumber: ID });
      const { caller: same, jar } = await callerFor(test.platform, { token });
      jar.session = token;
      expect(await same.privacy.requestErasure()).toEqual({ ok: true, retentionYears: 3 });
      expect(jar.session).toBeNull();
      expect(await test.platform.identity.resolveSession(test.platform.db, token)).toBeNull();

      expect(await test.platform.kyc.purgeExpired(test.platform.db)).toBe(0);
      test.clock.advance(3 * 366 * 86_400_000);
      expect(await test.platform.kyc.purgeExpired(test.platform.db)).toBe(1);
      expect(await test.platform.kyc.exportIdentity(test.platform.db, user.id)).toBeNull();
      expect(await test.platform.kyc.isVerified(test.platform.db, user.id)).toBe(false);
      expect((await verifyAuditChain(test.platform.db)).rows).toBe(3);
    });
  });
}
