/**
 * `npm run bench:flash-sale`: a 10,000-edition drop, 20,000 verified
 * collectors, 100,000 reservation attempts at concurrency 500, limit 1 per
 * person, through the real HTTP route on PostgreSQL (DATABASE_URL; a fresh
 * database, dropped afterwards), driven by a load generator in another
 * process. In the same run the generator measures the HTTP ceiling: a
 * trivial route (/api/ping) on the same server stack. The admission gate is
 * Redis when BENCH_REDIS_URL (default redis://127.0.0.1:6379/8) answers, the
 * in-memory gate otherwise. Afterwards the database is asked what was sold.
 * Writes bench/results/flash-sale.json (and, with BENCH_CPU_PROFILE=<file>,
 * a V8 CPU profile of the server during the sale).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Session } from "node:inspector/promises";
import { promisify } from "node:util";

import { sql } from "drizzle-orm";

import { sessions } from "../../server/db/schema.js";
import { buildHttpApp } from "../../server/http/app.js";
import { createPlatform } from "../../server/platform.js";
import { randomToken } from "../../server/security/crypto.js";
import {
  type TestPlatform,
  freePort,
  freshPostgresDatabase,
  makeIdNumber,
  publishedCollection,
  redisAnswers,
  testConfig,
} from "../../test/server/helpers.js";

const EDITIONS = Number(process.env.BENCH_EDITIONS ?? 10_000);
const COLLECTORS = Number(process.env.BENCH_COLLECTORS ?? 20_000);
const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 500);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/8";
/**
 * Before the drop, the server has served a small sale of another collection to other collectors (as a
 * running platform has): its code is compiled and its connections are open, as they are for the ping
 * ceiling, which gets its own warm-up. The crowd of the drop is still new to it (no session remembered).
 */
const WARMUP_COLLECTORS = Math.min(1_000, COLLECTORS);
const WARMUP_ATTEMPTS = 5_000;

const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;

async function main() {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") {
    console.error(
      "bench:flash-sale runs on PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)",
    );
    process.exit(2);
  }
  const useRedis = await redisAnswers(REDIS_URL, { flush: true });
  const database = await freshPostgresDatabase(adminUrl, "shuzang_bench", 24);
  const config = testConfig({
    LOG_LEVEL: "warn",
    RESERVE_ATTEMPTS_PER_MINUTE: "10000",
    ...(useRedis ? { REDIS_URL } : {}),
  });
  const platform = await createPlatform(config, { database, chain: null });
  const db = platform.db;
  try {
    console.log(`seeding ${COLLECTORS} verified collectors…`);
    const seedStarted = Date.now();
    const tokens: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < COLLECTORS + WARMUP_COLLECTORS) {
          const i = next++;
          const phone = `137${String(i).padStart(8, "0")}`;
          const account = await platform.identity.ensureAccount(db, phone);
          const birth = new Date(Date.UTC(1960, 0, 1) + (i % 10_000) * 86_400_000);
          const birthDate = birth.toISOString().slice(0, 10).replaceAll("-", "");
          await platform.kyc.submit(db, account.id, {
            name: "测试用户",
            idNumber: makeIdNumber(birthDate, "110101", String(100 + Math.floor(i / 10_000))),
          });
          const token = randomToken();
          tokens[i] = token;
          await db.insert(sessions).values({
            id: platform.identity.sessionIdOf(token),
            userId: account.id,
            userAgent: "bench",
            expiresAt: new Date(Date.now() + 86_400_000),
          });
        }
      }),
    );
    console.log(`seeded in ${Math.round((Date.now() - seedStarted) / 1000)} s`);
    const test = { platform, clock: { now: () => new Date() } } as unknown as TestPlatform;
    const collection = await publishedCollection(test, { editionSize: EDITIONS, perPersonLimit: 1 });
    const warmupCollection = await publishedCollection(test, { editionSize: 500, perPersonLimit: 1 });
    const warmupTokens = tokens.splice(COLLECTORS);

    const app = await buildHttpApp(platform, { logger: false });
    const port = await freePort();
    await app.listen({ host: "127.0.0.1", port });
    const dir = mkdtempSync(path.join(os.tmpdir(), "shuzang-flash-"));
    const tokensFile = path.join(dir, "tokens.json");
    writeFileSync(tokensFile, JSON.stringify(tokens));
    const warmupTokensFile = path.join(dir, "warmup-tokens.json");
    writeFileSync(warmupTokensFile, JSON.stringify(warmupTokens));

    const generate = async (load: Record<string, unknown>) => {
      const configFile = path.join(dir, `load-${String(load.mode)}.json`);
      writeFileSync(configFile, JSON.stringify(load));
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "scripts/bench/load-generator.ts", configFile],
        { maxBuffer: 1 << 20 },
      );
      return JSON.parse(stdout.trim().split("\n").at(-1)!) as {
        count: number;
        seconds: number;
        per_s: number;
        p50_ms: number;
        p90_ms: number;
        p99_ms: number;
        max_ms: number;
        statuses: Record<string, number>;
        by_status: Record<string, { count: number; p50_ms: number; p99_ms: number }>;
        by_second: { second: number; answers: number; p99_ms: number }[];
      };
    };
    const origin = `http://127.0.0.1:${port}`;
    console.log("measuring the HTTP ceiling (/api/ping)…");
    await generate({ url: `${origin}/api/ping`, mode: "ping", total: 5_000, concurrency: CONCURRENCY });
    const ceiling = await generate({
      url: `${origin}/api/ping`,
      mode: "ping",
      total: ATTEMPTS,
      concurrency: CONCURRENCY,
    });
    console.log(`ceiling ${ceiling.per_s}/s; warming up the reservation path on another collection…`);
    await generate({
      url: origin,
      mode: "reserve",
      total: WARMUP_ATTEMPTS,
      concurrency: CONCURRENCY,
      tokensFile: warmupTokensFile,
      collectionId: warmupCollection.id,
      keyPrefix: "warm-up-attempt",
    });
    console.log("running the flash sale…");
    // BENCH_CPU_PROFILE=<file>: a V8 CPU profile of the server's process during the sale alone.
    const profiler = process.env.BENCH_CPU_PROFILE === undefined ? null : new Session();
    if (profiler !== null) {
      profiler.connect();
      await profiler.post("Profiler.enable");
      await profiler.post("Profiler.start");
    }
    const sale = await generate({
      url: origin,
      mode: "reserve",
      total: ATTEMPTS,
      concurrency: CONCURRENCY,
      tokensFile,
      collectionId: collection.id,
    });
    if (profiler !== null) {
      const { profile } = await profiler.post("Profiler.stop");
      await writeFile(process.env.BENCH_CPU_PROFILE!, JSON.stringify(profile));
      profiler.disconnect();
    }
    await app.close();

    const [slots] = rows<{ sold: number; available: number }>(
      await db.execute(sql`
        select count(*) filter (where status <> 'available')::int as sold,
               count(*) filter (where status = 'available')::int as available
        from edition_slots where collection_id = ${collection.id}`),
    );
    const [ordered] = rows<{ editions: number }>(
      await db.execute(
        sql`select coalesce(sum(quantity), 0)::int as editions from orders where collection_id = ${collection.id} and status = 'created'`,
      ),
    );
    const [violations] = rows<{ n: number }>(
      await db.execute(sql`
        select count(*)::int as n from (
          select commitment from orders where collection_id = ${collection.id} and status <> 'expired'
          group by commitment having sum(quantity) > 1) over_limit`),
    );
    const result = {
      benchmark: "flash-sale",
      database: "postgres",
      gate: useRedis ? "redis" : "memory",
      route: "POST /trpc/drops.reserve (the storefront's tRPC call, server/http/reserve-door.ts)",
      machine: { cpus: os.cpus().length, node: process.version },
      editions: EDITIONS,
      collectors: COLLECTORS,
      concurrency: CONCURRENCY,
      attempts: sale.count,
      seconds: sale.seconds,
      attempts_per_s: sale.per_s,
      http_ceiling_per_s: ceiling.per_s,
      ratio_to_http_ceiling: Math.round((sale.per_s / ceiling.per_s) * 1000) / 1000,
      p50_ms: sale.p50_ms,
      p90_ms: sale.p90_ms,
      p99_ms: sale.p99_ms,
      max_ms: sale.max_ms,
      answers: sale.statuses,
      latency_by_answer: sale.by_status,
      by_second: sale.by_second,
      warm_up: { collectors: WARMUP_COLLECTORS, attempts: WARMUP_ATTEMPTS, other_collection: true },
      sold: slots!.sold,
      ordered_editions: ordered!.editions,
      oversold: Math.max(0, slots!.sold - EDITIONS) + Math.max(0, ordered!.editions - EDITIONS),
      limit_violations: violations!.n,
      ceiling: { p50_ms: ceiling.p50_ms, p99_ms: ceiling.p99_ms, statuses: ceiling.statuses },
      target: {
        sold: EDITIONS,
        oversold: 0,
        limit_violations: 0,
        attempts_per_s: 5000,
        ratio_to_http_ceiling: 0.25,
        p99_ms: 300,
      },
    };
    await mkdir(path.join("bench", "results"), { recursive: true });
    await writeFile(path.join("bench", "results", "flash-sale.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await platform.gate.close();
    await platform.database.close();
  }
}

await main();
