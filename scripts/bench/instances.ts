/**
 * `npm run bench:instances`: the flash sale through the storefront's door
 * (POST /trpc/drops.reserve) against one API instance, then against two,
 * each `server/main.ts` as its own process (SERVER_ROLE=api) on one fresh
 * PostgreSQL database (DATABASE_URL) and one Redis, the load spread over the
 * instances in turn as a load balancer would. Same crowd, same generator, same
 * run; a fresh collection for each phase. Afterwards the database is asked
 * what was sold and whether anyone passed the limit. Writes
 * bench/results/instances.json, with the machine's core count and load: on
 * two cores the generator, the instances, PostgreSQL and Redis share them.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";

import { sql } from "drizzle-orm";
import { Mnemonic } from "ethers";

import { loadConfig } from "../../server/config.js";
import { sessions } from "../../server/db/schema.js";
import { createPlatform } from "../../server/platform.js";
import { randomToken } from "../../server/security/crypto.js";
import {
  type TestPlatform,
  freePort,
  freshPostgresDatabase,
  makeIdNumber,
  publishedCollection,
  redisAnswers,
} from "../../test/server/helpers.js";

const EDITIONS = Number(process.env.BENCH_EDITIONS ?? 2_000);
const COLLECTORS = Number(process.env.BENCH_COLLECTORS ?? 4_000);
const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/13";
const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;
const run = promisify(execFile);

async function main() {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") {
    console.error(
      "bench:instances runs on PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)",
    );
    process.exit(2);
  }
  if (!(await redisAnswers(REDIS_URL, { flush: true }))) {
    console.error(`bench:instances shares limits and the gate through Redis: ${REDIS_URL} does not answer`);
    process.exit(2);
  }
  const database = await freshPostgresDatabase(adminUrl, "shuzang_instances", 8);
  const dir = mkdtempSync(path.join(os.tmpdir(), "shuzang-instances-"));
  const env: Record<string, string> = {
    NODE_ENV: "test",
    LOG_LEVEL: "warn",
    DATA_DIR: dir,
    DATABASE_URL: database.url,
    REDIS_URL,
    CHAIN_ENABLED: "false",
    RESERVE_ATTEMPTS_PER_MINUTE: "10000",
    PII_KEYS: `b1:${randomBytes(32).toString("base64")}`,
    PII_ACTIVE_KEY_ID: "b1",
    IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    LOOKUP_PEPPER: randomBytes(32).toString("hex"),
    WALLET_MNEMONIC: Mnemonic.fromEntropy(randomBytes(16)).phrase,
  };
  const platform = await createPlatform(loadConfig(env), { database, chain: null });
  const db = platform.db;
  const servers: ChildProcess[] = [];
  try {
    console.log(`seeding ${COLLECTORS} verified collectors…`);
    const tokens: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < COLLECTORS) {
          const i = next++;
          const account = await platform.identity.ensureAccount(db, `136${String(i).padStart(8, "0")}`);
          const birth = new Date(Date.UTC(1960, 0, 1) + (i % 10_000) * 86_400_000);
          await platform.kyc.submit(db, account.id, {
            name: "测试用户",
            idNumber: makeIdNumber(birth.toISOString().slice(0, 10).replaceAll("-", ""), "110101", "321"),
          });
          tokens[i] = randomToken();
          await db.insert(sessions).values({
            id: platform.identity.sessionIdOf(tokens[i]),
            userId: account.id,
            userAgent: "bench",
            expiresAt: new Date(Date.now() + 86_400_000),
          });
        }
      }),
    );
    const test = { platform, clock: { now: () => new Date() } } as unknown as TestPlatform;
    const tokensFile = path.join(dir, "tokens.json");
    writeFileSync(tokensFile, JSON.stringify(tokens));

    const start = async () => {
      const port = await freePort();
      const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
        env: {
          ...process.env,
          ...env,
          PORT: String(port),
          PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
          SERVER_ROLE: "api",
        },
        stdio: ["ignore", "ignore", "inherit"],
      });
      servers.push(child);
      const origin = `http://127.0.0.1:${port}`;
      for (let i = 0; i < 600; i++) {
        if (
          await fetch(`${origin}/healthz`)
            .then((r) => r.ok)
            .catch(() => false)
        )
          return origin;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("an instance did not come up");
    };
    const generate = async (load: Record<string, unknown>) => {
      const file = path.join(dir, `load-${randomBytes(3).toString("hex")}.json`);
      writeFileSync(file, JSON.stringify(load));
      const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/bench/load-generator.ts", file], {
        maxBuffer: 1 << 22,
      });
      return JSON.parse(stdout.trim().split("\n").at(-1)!) as {
        count: number;
        per_s: number;
        p50_ms: number;
        p99_ms: number;
        statuses: Record<string, number>;
      };
    };
    const phase = async (urls: string[]) => {
      const collection = await publishedCollection(test, { editionSize: EDITIONS, perPersonLimit: 1 });
      // Warm every instance's code and connections on a small sale of its own first.
      const warm = await publishedCollection(test, { editionSize: 50, perPersonLimit: 1 });
      await generate({
        url: urls[0],
        urls,
        mode: "reserve",
        total: 2_000,
        concurrency: CONCURRENCY,
        tokensFile,
        collectionId: warm.id,
        keyPrefix: `warm-${urls.length}`,
      });
      const load = os.loadavg()[0];
      const sale = await generate({
        url: urls[0],
        urls,
        mode: "reserve",
        total: ATTEMPTS,
        concurrency: CONCURRENCY,
        tokensFile,
        collectionId: collection.id,
        keyPrefix: `sale-${urls.length}`,
      });
      const [sold] = rows<{ n: number }>(
        await db.execute(
          sql`select count(*)::int as n from edition_slots where collection_id = ${collection.id} and status <> 'available'`,
        ),
      );
      const [over] = rows<{ n: number }>(
        await db.execute(sql`select count(*)::int as n from (select commitment from orders where collection_id = ${collection.id}
          group by commitment having sum(quantity) > 1) o`),
      );
      return {
        instances: urls.length,
        load_average_before: Math.round(load! * 100) / 100,
        attempts_per_s: sale.per_s,
        p50_ms: sale.p50_ms,
        p99_ms: sale.p99_ms,
        answers: sale.statuses,
        sold: sold!.n,
        editions: EDITIONS,
        limit_violations: over!.n,
      };
    };

    const first = await start();
    console.log("one instance…");
    const one = await phase([first]);
    const second = await start();
    console.log("two instances…");
    const two = await phase([first, second]);
    const { stdout: commit } = await run("git", ["rev-parse", "--short", "HEAD"]);
    const result = {
      benchmark: "instances",
      route: "POST /trpc/drops.reserve",
      commit: commit.trim(),
      machine: { cpus: os.cpus().length, node: process.version },
      collectors: COLLECTORS,
      attempts: ATTEMPTS,
      concurrency: CONCURRENCY,
      one_instance: one,
      two_instances: two,
      ratio_two_to_one: Math.round((two.attempts_per_s / one.attempts_per_s) * 100) / 100,
      note:
        `On ${os.cpus().length} cores the load generator, every instance, PostgreSQL and Redis share the same cores: ` +
        "a second instance adds an event loop but no CPU, so this measures that instances share the work correctly " +
        "(exact stock, one limit across instances), not how far the platform scales on more machines.",
    };
    await mkdir(path.join("bench", "results"), { recursive: true });
    await writeFile(path.join("bench", "results", "instances.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    for (const server of servers) server.kill("SIGTERM");
    await platform.gate.close();
    await platform.database.close();
  }
}

await main();
