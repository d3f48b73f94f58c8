import fc from "fast-check";
import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { buildHttpApp } from "../../server/http/app.js";
import { appRouter } from "../../server/trpc/router.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  login,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { BASES, EXPECTED, type Role } from "./procedure-access.js";
import { recordFigures } from "./reliability-report.js";

/**
 * Every procedure that takes input, fed generated invalid values through the
 * real HTTP endpoint by a caller allowed past its door: the answer is never a
 * 500 and no table changes. Values come from fast-check: wrong types, huge
 * and odd strings, negative, fractional and non-finite numbers, prototype
 * keys, deep nesting, and objects with the right keys holding wrong values.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

const procedures = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: string; inputs: unknown[] } }
>;
const withInput = Object.keys(procedures).filter((path) => procedures[path]!._def.inputs.length > 0);

const FIELD_NAMES = [
  "collectionId",
  "quantity",
  "idempotencyKey",
  "orderNo",
  "phone",
  "code",
  "name",
  "idNumber",
  "recipient",
  "tokenId",
  "contractAddress",
  "reason",
  "approve",
  "draft",
  "recipients",
  "userId",
  "frozen",
  "day",
  "limit",
  "status",
  "legalName",
  "creditCode",
  "sessionId",
  "airdropId",
  "issuerId",
  "confirmNameMasked",
  "winnersCount",
];

const oddStrings = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 5000, maxLength: 6000 }),
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "../../etc/passwd",
    "'; drop table users; --",
    "<script>alert(1)</script>",
    "𠀀🀄️",
    "1e309",
    "NaN",
    "-0",
  ),
);
const oddNumbers = fc.oneof(
  fc.integer({ min: -2_147_483_648, max: 0 }),
  fc.double({ noNaN: false }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -1, 0.5, 1e21),
);
const leaf = fc.oneof(
  oddStrings,
  oddNumbers,
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.anything(), { maxLength: 3 }),
);
const invalidInput = fc.oneof(
  fc.anything({ maxDepth: 4 }),
  fc.dictionary(fc.constantFrom(...FIELD_NAMES, "__proto__", "constructor", "prototype"), leaf, { maxKeys: 5 }),
  fc.constantFrom({ __proto__: { admin: true } }, JSON.parse('{"__proto__": {"polluted": 1}}') as unknown),
  fc.letrec((tie) => ({
    deep: fc.oneof(
      { depthSize: "small" },
      leaf,
      fc.dictionary(fc.string({ maxLength: 3 }), tie("deep"), { maxKeys: 2 }),
    ),
  })).deep,
);

/** Row counts of every table: a write anywhere changes one. */
async function tableCounts(test: TestPlatform): Promise<Record<string, number>> {
  const tables = await test.platform.db.execute(
    sql`select tablename from pg_tables where schemaname = 'public' order by tablename`,
  );
  const rows = (tables as unknown as { rows: { tablename: string }[] }).rows;
  const counts: Record<string, number> = {};
  for (const { tablename } of rows) {
    const result = await test.platform.db.execute(sql.raw(`select count(*)::int as n from "${tablename}"`));
    const [first] = (result as unknown as { rows: { n: number }[] }).rows;
    counts[tablename] = first!.n;
  }
  return counts;
}

describe("input fuzzing through HTTP (pglite)", () => {
  let test: TestPlatform;
  let app: FastifyInstance;
  const tokens = new Map<Role, string | null>();

  beforeAll(async () => {
    test = await createTestPlatform(databasesUnderTest()[0]!);
    app = await buildHttpApp(test.platform, { logger: false });
    const collection = await publishedCollection(test);
    tokens.set("anonymous", null);
    tokens.set("unverifiedCollector", (await login(test)).token);
    tokens.set("verifiedCollector", (await verifiedCollector(test)).token);
    const staff = await login(test);
    await promote(test.platform, staff.user.id, "issuer_staff", collection.issuerId);
    tokens.set("issuerA", staff.token);
    tokens.set("issuerB", staff.token);
    const operator = await login(test);
    await promote(test.platform, operator.user.id, "operator");
    tokens.set("operator", operator.token);
  });
  afterAll(async () => {
    await app?.close();
    await test?.close();
  });

  it("answers every invalid input with a 4xx and writes nothing", async () => {
    let cases = 0;
    let serverErrors = 0;
    let writes = 0;
    const statuses: Record<string, number> = {};
    const failures: string[] = [];
    for (const path of withInput) {
      const role = BASES[EXPECTED[path]!].at(-1)!;
      const token = tokens.get(role) ?? null;
      const mutation = procedures[path]!._def.type === "mutation";
      const before = await tableCounts(test);
      await fc
        .assert(
          fc.asyncProperty(invalidInput, async (input) => {
            cases++;
            const cookie = `csrf=fuzz-token${token === null ? "" : `; sid=${token}`}`;
            const response = mutation
              ? await app.inject({
                  method: "POST",
                  url: `/trpc/${path}`,
                  headers: { cookie, "x-csrf-token": "fuzz-token", "content-type": "application/json" },
                  payload: JSON.stringify(input ?? null),
                })
              : await app.inject({
                  method: "GET",
                  url: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input ?? null))}`,
                  headers: { cookie },
                });
            statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
            if (response.statusCode === 401 || response.statusCode === 403) {
              failures.push(`${path}: the fuzzing caller was stopped at the door (${response.statusCode})`);
            }
            if (response.statusCode >= 500) {
              serverErrors++;
              failures.push(`${path}: ${response.statusCode} for ${JSON.stringify(input)?.slice(0, 200)}`);
            }
            return response.statusCode < 500;
          }),
          { numRuns: RUNS, seed: 20261124 },
        )
        .catch(() => undefined);
      const after = await tableCounts(test);
      for (const table of Object.keys(before)) {
        if (before[table] !== after[table]) {
          writes++;
          failures.push(`${path} wrote to ${table}: ${before[table]} → ${after[table]}`);
        }
      }
    }
    recordFigures("input_fuzzing", {
      procedures_fuzzed: withInput.length,
      runs_per_procedure: RUNS,
      cases,
      server_errors: serverErrors,
      writes,
      statuses,
    });
    expect(failures).toEqual([]);
  });
});
