import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import { SANDBOX_MISMATCH_NAME } from "../../server/providers/kyc/sandbox.js";
import { type TestPlatform, createTestPlatform, databasesUnderTest, login, makeIdNumber, stepUp } from "./helpers.js";

/**
 * One account's simultaneous KYC submissions are decided one at a time (a transaction-scoped advisory lock on
 * the account, then on the identity commitment): on PostgreSQL, where they really run at once, six ID numbers
 * submitted together verified the account six times, and 30 refused attempts together passed a limit of 10.
 */

async function count(test: TestPlatform, query: ReturnType<typeof sql>): Promise<number> {
  return ((await test.platform.db.execute(query)) as unknown as { rows: { n: number }[] }).rows[0]!.n;
}

const codeOf = (result: PromiseSettledResult<unknown>) =>
  result.status === "fulfilled" ? "verified" : (result.reason as Error).message;

for (const database of databasesUnderTest()) {
  describe(`simultaneous real-name submissions (${database.name})`, () => {
    let test: TestPlatform;

    beforeEach(async () => {
      test = await createTestPlatform(database);
    });
    afterEach(async () => {
      await test.close();
    });

    it("verifies an account once when it submits six different ID numbers at once", async () => {
      const { caller, user } = await login(test);
      await stepUp(test, caller, "kyc");
      const births = ["19800101", "19810202", "19820303", "19830404", "19840505", "19850606"];
      const results = await Promise.allSettled(
        births.map((birth) => caller.kyc.submit({ name: "张晓明", idNumber: makeIdNumber(birth, "110101", "321") })),
      );
      const codes = results.map(codeOf);
      expect(codes.filter((c) => c === "verified")).toHaveLength(1);
      expect(codes.filter((c) => c === "kyc.alreadyVerified")).toHaveLength(5);
      expect(
        await count(
          test,
          sql`select count(*)::int as n from kyc_attempts where user_id = ${user.id} and outcome = 'verified'`,
        ),
      ).toBe(1);
      expect(await count(test, sql`select count(*)::int as n from registry_bindings where user_id = ${user.id}`)).toBe(
        1,
      );
      expect(await count(test, sql`select count(*)::int as n from audit_log where action = 'kyc.verified'`)).toBe(1);
    });

    it("answers at most 10 refused attempts when 30 arrive at once", async () => {
      const { caller, user } = await login(test);
      await stepUp(test, caller, "kyc");
      const results = await Promise.allSettled(
        Array.from({ length: 30 }, () =>
          caller.kyc.submit({ name: SANDBOX_MISMATCH_NAME, idNumber: makeIdNumber("19900307") }),
        ),
      );
      const codes = results.map(codeOf);
      expect(codes.filter((c) => c === "kyc.nameMismatch")).toHaveLength(10);
      expect(codes.filter((c) => c === "auth.rateLimited")).toHaveLength(20);
      expect(
        await count(
          test,
          sql`select count(*)::int as n from kyc_attempts where user_id = ${user.id} and outcome = 'mismatch'`,
        ),
      ).toBe(10);
    });
  });
}
