import fc from "fast-check";
import { sql } from "drizzle-orm";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE } from "../../server/http/app.js";

import { z } from "zod";

import { buildHttpApp } from "../../server/http/app.js";
import { creditCodeCheckCharacter } from "../../server/modules/catalog/credit-code.js";
import { appRouter } from "../../server/trpc/router.js";
import { safe } from "../../shared/validation.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  login,
  makeIdNumber,
  promote,
  publishedCollection,
  verifiedCollector,
} from "./helpers.js";
import { type Field, fieldsOf, hostileValuesFor, sampleOf, valueAt, withValueAt } from "./input-schemas.js";
import { BASES, EXPECTED, type Role } from "./procedure-access.js";
import { recordFigures } from "./reliability-report.js";

/**
 * Every procedure that takes input, fed generated invalid values through the
 * real HTTP endpoint by a caller allowed past its door: the answer is never a
 * 500 and no table changes. Values come from fast-check: wrong types, huge
 * and odd strings, negative, fractional and non-finite numbers, prototype
 * keys, deep nesting, and objects with the right keys holding wrong values.
 * The routes outside tRPC (flash-sale reservation, uploads, payment
 * notifications, the sandbox cashier) and malformed requests (broken JSON,
 * oversized bodies, junk batches) get the same treatment.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 25);

const procedures = appRouter._def.procedures as unknown as Record<
  string,
  { _def: { type: string; inputs: z.ZodType[] } }
>;
const withInput = Object.keys(procedures).filter((path) => procedures[path]!._def.inputs.length > 0);

/** Every text, number and date field of a procedure's input. */
const fieldsOfProcedure = (path: string): Field[] => procedures[path]!._def.inputs.flatMap((input) => fieldsOf(input));

/** What the hostile-value suite's fixtures give the inputs that must name real rows to reach the database. */
interface Fixture {
  publishedId: number;
  mediaSha256: string;
  draftId: number;
  inReviewId: number;
  pendingIssuerId: number;
  collectorUserId: number;
}

const validCreditCode = (first17: string) => `${first17}${creditCodeCheckCharacter(first17)}`;

/** A draft the fixture's issuer may save (its dates ahead of the test clock). */
const draftOf = (fx: Fixture) => ({
  title: "测试藏品",
  description: "简介\n第二行",
  creator: "作者",
  story: "故事",
  mediaSha256: fx.mediaSha256,
  editionSize: 100,
  priceFen: 1990,
  saleStartsAt: "2026-12-01T02:00:00.000Z",
  saleEndsAt: "2026-12-08T02:00:00.000Z",
  perPersonLimit: 2,
  lockDays: 180,
  regiftDays: 730,
});

/**
 * Valid inputs naming real rows, for the procedures that write: each hostile value then fails only by itself,
 * and on code without the shared primitives it would reach the database. The rest use {@link sampleOf}.
 */
const BASE_INPUTS: Record<string, (fx: Fixture) => unknown> = {
  "issuer.submitApplication": () => ({ legalName: "测试文物研究院", creditCode: validCreditCode("91350100M000200Y4") }),
  "issuer.review": (fx) => ({ issuerId: fx.pendingIssuerId, approve: false, reason: "材料不全" }),
  "review.decide": (fx) => ({ collectionId: fx.inReviewId, approve: false, reason: "图片不清晰" }),
  "studio.createDraft": (fx) => draftOf(fx),
  "studio.updateDraft": (fx) => ({ collectionId: fx.draftId, draft: draftOf(fx) }),
  "studio.publish": (fx) => ({
    collectionId: fx.draftId,
    window: { saleStartsAt: "2027-01-01T02:00:00.000Z", saleEndsAt: "2027-02-01T02:00:00.000Z" },
  }),
  "studio.airdropCheck": (fx) => ({ collectionId: fx.publishedId, recipients: ["13900000000"] }),
  "studio.airdrop": (fx) => ({ collectionId: fx.publishedId, recipients: ["13900000000"] }),
  "kyc.submit": () => ({ name: "李小红", idNumber: makeIdNumber("19900307", "110101", "998") }),
  "lottery.open": (fx) => ({
    collectionId: fx.publishedId,
    registrationEndsAt: "2026-11-30T02:00:00.000Z",
    winnersCount: 10,
  }),
  "gifts.suspend": (fx) => ({ userId: fx.collectorUserId, suspended: true, reason: "疑似场外转售" }),
  "ops.freezeAccount": (fx) => ({ userId: fx.collectorUserId, frozen: true, reason: "司法冻结" }),
  "ops.freezeToken": (fx) => ({ collectionId: fx.publishedId, tokenId: 1, frozen: true, reason: "侵权下架" }),
  "audit.recent": () => ({
    limit: 10,
    beforeSeq: 1_000_000,
    action: "account.frozen",
    from: "2026-11-01",
    to: "2026-11-30",
  }),
};

/** The valid input the hostile values are set into. */
function baseInput(path: string, fx: Fixture): unknown {
  const make = BASE_INPUTS[path];
  if (make !== undefined) return make(fx);
  const [first] = procedures[path]!._def.inputs;
  return sampleOf(first!);
}

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

/** What each database's run adds to the figures. */
const totals = {
  databases: [] as string[],
  procedures_fuzzed: withInput.length,
  runs_per_procedure: RUNS,
  cases: 0,
  plain_route_cases: 0,
  malformed_request_cases: 0,
  hostile_cases: 0,
  server_errors: 0,
  writes: 0,
  statuses: {} as Record<string, number>,
};
const countStatus = (status: number) => {
  totals.statuses[status] = (totals.statuses[status] ?? 0) + 1;
};

describe("the door of every input", () => {
  it("makes every text, number and date field of every procedure from the shared primitives", () => {
    const unsafe = withInput.flatMap((path) =>
      fieldsOfProcedure(path)
        .filter((field) => field.mark === undefined)
        .map((field) => `${path}: ${field.path.join(".") || "(input)"} is a bare z.${field.type}()`),
    );
    expect(unsafe).toEqual([]);
    expect(withInput.flatMap(fieldsOfProcedure).length).toBeGreaterThan(60);
  });

  it("catches a field that skipped the door, a primitive changed after it was made, and a bare date", () => {
    const bare = z.object({
      note: z.string().max(200),
      tightened: safe.text({ max: 60 }).max(10),
      nested: z.array(z.object({ at: z.coerce.date().optional() })),
      fine: safe.text({ max: 60 }).optional(),
      amount: safe.fen(100).default(0),
    });
    const unsafe = fieldsOf(bare)
      .filter((field) => field.mark === undefined)
      .map((field) => field.path.join("."));
    expect(unsafe).toEqual(["note", "tightened", "nested.0.at"]);
  });

  it("has, for every procedure, a base input its schema accepts, holding every field", () => {
    const fx: Fixture = {
      publishedId: 1,
      mediaSha256: "a".repeat(64),
      draftId: 2,
      inReviewId: 3,
      pendingIssuerId: 4,
      collectorUserId: 5,
    };
    const problems: string[] = [];
    for (const path of withInput) {
      const base = baseInput(path, fx);
      for (const input of procedures[path]!._def.inputs) {
        const parsed = input.safeParse(base);
        if (!parsed.success) problems.push(`${path}: ${JSON.stringify(parsed.error.issues)}`);
      }
      for (const field of fieldsOfProcedure(path)) {
        if (valueAt(base, field.path) === undefined) problems.push(`${path}: no value at ${field.path.join(".")}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

for (const database of databasesUnderTest()) {
  describe(`input fuzzing through HTTP (${database.name})`, () => {
    let test: TestPlatform;
    let app: FastifyInstance;
    let publishedId = 0;
    let fixture: Fixture;
    const tokens = new Map<Role, string | null>();

    beforeAll(async () => {
      test = await createTestPlatform(database);
      app = await buildHttpApp(test.platform, { logger: false });
      const collection = await publishedCollection(test);
      publishedId = collection.id;
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
      totals.databases.push(database.name);

      // Rows the hostile-value suite's inputs name: a draft, a draft in review, a pending issuer, a collector.
      const studio = (await callerFor(test.platform, { token: staff.token })).caller;
      const draft = {
        ...draftOf({ mediaSha256: collection.mediaSha256 } as Fixture),
        saleStartsAt: new Date("2026-12-01T02:00:00Z"),
        saleEndsAt: new Date("2026-12-08T02:00:00Z"),
      };
      const draftRow = await studio.studio.createDraft(draft);
      const inReview = await studio.studio.createDraft(draft);
      await studio.studio.submit({ collectionId: inReview.id });
      const applicant = await login(test);
      const application = await applicant.caller.issuer.submitApplication({
        legalName: "待审博物馆",
        creditCode: validCreditCode("91350100M000300Y4"),
      });
      const collector = await verifiedCollector(test);
      fixture = {
        publishedId,
        mediaSha256: collection.mediaSha256,
        draftId: draftRow.id,
        inReviewId: inReview.id,
        pendingIssuerId: application.id,
        collectorUserId: collector.user.id,
      };
    });
    afterAll(async () => {
      await app?.close();
      await test?.close();
    });

    const cookieFor = (role: Role) => {
      const token = tokens.get(role) ?? null;
      return `${CSRF_COOKIE}=fuzz-token${token === null ? "" : `; ${SESSION_COOKIE}=${token}`}`;
    };

    /** Compares row counts before and after, allowing only `expected` changes; returns the unexpected ones. */
    async function unexpectedWrites(
      before: Record<string, number>,
      label: string,
      expected: Record<string, number> = {},
    ): Promise<string[]> {
      const after = await tableCounts(test);
      const found: string[] = [];
      for (const table of Object.keys(before)) {
        const grew = after[table]! - before[table]!;
        if (grew !== (expected[table] ?? 0))
          found.push(`${label} wrote to ${table}: ${before[table]} → ${after[table]}`);
      }
      totals.writes += found.length;
      return found;
    }

    it("answers every invalid input with a 4xx and writes nothing", async () => {
      const failures: string[] = [];
      for (const path of withInput) {
        const role = BASES[EXPECTED[path]!].at(-1)!;
        const cookie = cookieFor(role);
        const mutation = procedures[path]!._def.type === "mutation";
        const before = await tableCounts(test);
        await fc
          .assert(
            fc.asyncProperty(invalidInput, async (input) => {
              totals.cases++;
              const response = mutation
                ? await app.inject({
                    method: "POST",
                    url: `/trpc/${path}`,
                    headers: { cookie, [CSRF_HEADER]: "fuzz-token", "content-type": "application/json" },
                    payload: JSON.stringify(input ?? null),
                  })
                : await app.inject({
                    method: "GET",
                    url: `/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input ?? null))}`,
                    headers: { cookie },
                  });
              countStatus(response.statusCode);
              if (response.statusCode === 401 || response.statusCode === 403) {
                failures.push(`${path}: the fuzzing caller was stopped at the door (${response.statusCode})`);
              }
              if (response.statusCode >= 500) {
                totals.server_errors++;
                failures.push(`${path}: ${response.statusCode} for ${JSON.stringify(input)?.slice(0, 200)}`);
              }
              return response.statusCode < 500;
            }),
            { numRuns: RUNS, seed: 20261124 },
          )
          .catch(() => undefined);
        failures.push(...(await unexpectedWrites(before, path)));
      }
      expect(failures).toEqual([]);
      // Dozens of procedures times RUNS requests each: minutes on a loaded 2-core machine.
    }, 900_000);

    it("refuses hostile text, dates and numbers in every field of every procedure with a 400, writing nothing", async () => {
      const failures: string[] = [];
      for (const path of withInput) {
        const role = BASES[EXPECTED[path]!][0];
        const cookie = cookieFor(role);
        const mutation = procedures[path]!._def.type === "mutation";
        const base = baseInput(path, fixture);
        const before = await tableCounts(test);
        for (const field of fieldsOfProcedure(path)) {
          if (valueAt(base, field.path) === undefined)
            failures.push(`${path}: no base value at ${field.path.join(".")}`);
          for (const hostile of hostileValuesFor(field, valueAt(base, field.path))) {
            totals.hostile_cases++;
            const body = JSON.stringify(withValueAt(base, field.path, hostile.value));
            const response = mutation
              ? await app.inject({
                  method: "POST",
                  url: `/trpc/${path}`,
                  headers: { cookie, [CSRF_HEADER]: "fuzz-token", "content-type": "application/json" },
                  payload: body,
                })
              : await app.inject({
                  method: "GET",
                  url: `/trpc/${path}?input=${encodeURIComponent(body)}`,
                  headers: { cookie },
                });
            countStatus(response.statusCode);
            if (response.statusCode >= 500) totals.server_errors++;
            if (response.statusCode !== 400) {
              failures.push(`${path} ${field.path.join(".")} ← ${hostile.name}: ${response.statusCode}`);
            }
          }
        }
        failures.push(...(await unexpectedWrites(before, `${path} (hostile values)`)));
      }
      expect(failures).toEqual([]);
    }, 900_000);

    it("answers junk on the routes outside tRPC with a 4xx, recording refused notifications and nothing else", async () => {
      const failures: string[] = [];
      const collector = cookieFor("verifiedCollector");
      const staff = cookieFor("issuerA");
      const junkText = fc.oneof(oddStrings, fc.json(), fc.string({ unit: "binary", maxLength: 200 }));
      const junkSegment = fc.oneof(
        fc.constant(String(publishedId + 1000)),
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.constantFrom("..", "%00", "0", "-1", "1e309", "__proto__"),
      );
      const contentType = fc.constantFrom(
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "image/png",
      );
      const routes: Record<string, fc.Arbitrary<InjectOptions>> = {
        reserve: fc.record({ id: junkSegment, body: invalidInput }).map(({ id, body }) => ({
          method: "POST" as const,
          url: "/trpc/drops.reserve",
          headers: { cookie: collector, [CSRF_HEADER]: "fuzz-token", "content-type": "application/json" },
          payload: JSON.stringify(
            typeof body === "object" && body !== null && !Array.isArray(body) ? { ...body, collectionId: id } : body,
          ),
        })),
        upload: fc.record({ bytes: fc.uint8Array({ maxLength: 256 }), type: contentType }).map(({ bytes, type }) => ({
          method: "POST" as const,
          url: "/media",
          headers: { cookie: staff, [CSRF_HEADER]: "fuzz-token", "content-type": type },
          payload: Buffer.from(bytes),
        })),
        mediaRead: junkSegment.map((id) => ({ method: "GET" as const, url: `/media/${encodeURIComponent(id)}` })),
        cashier: junkSegment.map((id) => ({
          method: "GET" as const,
          url: `/pay/sandbox/cashier/${encodeURIComponent(id)}`,
        })),
        cashierPay: junkSegment.map((id) => ({
          method: "POST" as const,
          url: `/pay/sandbox/cashier/${encodeURIComponent(id)}/pay`,
        })),
        notification: fc
          .record({
            type: contentType,
            body: fc.oneof(
              junkText,
              fc
                .dictionary(
                  fc.constantFrom("sign", "sign_type", "app_id", "out_trade_no", "total_amount", "trade_status", "%zz"),
                  junkText,
                )
                .map((fields) =>
                  Object.entries(fields)
                    .map(([k, v]) => `${k}=${v}`)
                    .join("&"),
                ),
            ),
          })
          .map(({ type, body }) => ({
            method: "POST" as const,
            url: "/pay/notify/sandbox",
            headers: { "content-type": type },
            payload: body,
          })),
      };
      for (const [route, requests] of Object.entries(routes)) {
        const before = await tableCounts(test);
        let notifications = 0;
        await fc
          .assert(
            fc.asyncProperty(requests, async (request) => {
              totals.plain_route_cases++;
              const response = await app.inject(request);
              countStatus(response.statusCode);
              if (route === "notification") notifications++;
              if (response.statusCode >= 500) {
                totals.server_errors++;
                failures.push(
                  `${route}: ${response.statusCode} for ${String(request.url)} ${response.body.slice(0, 200)}`,
                );
              }
              return response.statusCode < 500;
            }),
            { numRuns: RUNS * 2, seed: 20261124 },
          )
          .catch(() => undefined);
        // Every notification is recorded, refused ones included, for the payment trail.
        failures.push(...(await unexpectedWrites(before, route, { payment_notifications: notifications })));
      }
      expect(failures).toEqual([]);
    });

    it("answers malformed requests to /trpc with a 4xx and writes nothing", async () => {
      const cookie = cookieFor("operator");
      const headers = { cookie, [CSRF_HEADER]: "fuzz-token", "content-type": "application/json" };
      const requests: InjectOptions[] = [
        { method: "POST", url: "/trpc/auth.requestCode", headers, payload: "{not json" },
        { method: "POST", url: "/trpc/auth.requestCode", headers, payload: "" },
        { method: "POST", url: "/trpc/auth.requestCode", headers, payload: "[1,2,3]" },
        { method: "POST", url: "/trpc/auth.requestCode", headers, payload: "x".repeat(2 * 1024 * 1024) },
        { method: "POST", url: "/trpc/auth.requestCode,auth.login?batch=1", headers, payload: '{"0":1}' },
        { method: "POST", url: "/trpc/auth.requestCode?batch=1", headers, payload: '"not a batch"' },
        { method: "GET", url: "/trpc/catalog.get?input=%7Bbroken" },
        { method: "GET", url: "/trpc/catalog.get?batch=1&input=%5B1%5D" },
        { method: "GET", url: `/trpc/${"catalog.list,".repeat(500)}catalog.list?batch=1` },
        { method: "GET", url: "/trpc/no.such.procedure" },
        { method: "GET", url: `/trpc/${"a".repeat(6000)}` },
        { method: "GET", url: "/trpc/__proto__.constructor" },
        { method: "PUT", url: "/trpc/auth.login", headers, payload: "{}" },
        { method: "DELETE", url: "/trpc/auth.logout", headers },
      ];
      const before = await tableCounts(test);
      const failures: string[] = [];
      for (const request of requests) {
        totals.malformed_request_cases++;
        const response = await app.inject(request);
        countStatus(response.statusCode);
        if (response.statusCode >= 500) {
          totals.server_errors++;
          failures.push(`${request.method} ${String(request.url).slice(0, 80)}: ${response.statusCode}`);
        }
      }
      failures.push(...(await unexpectedWrites(before, "malformed requests")));
      expect(failures).toEqual([]);
    });
  });
}

afterAll(() => {
  recordFigures("input_fuzzing", totals);
});
