/**
 * `npm run bench:instances`: the flash sale through the storefront's door
 * (POST /trpc/drops.reserve) against one API instance, then against two,
 * each `server/main.ts` as its own process (SERVER_ROLE=api) on one fresh
 * PostgreSQL database (DATABASE_URL) and one Redis, the load spread over the
 * instances in turn as a load balancer would. The crowd comes open-loop from
 * the flash-sale bench's generator (scripts/bench/load-generator.ts) at rising
 * rates (BENCH_RATES), each step a fresh sale, until a step does not hold (p99
 * over 300 ms, the rate not achieved, or a failure). After each step the
 * database is asked what was sold and whether anyone passed the limit. Writes
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
import { RESERVE_PATH } from "../../server/http/reserve-door.js";
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
const ATTEMPTS = Number(process.env.BENCH_ATTEMPTS ?? 8_000);
const RATES = (process.env.BENCH_RATES ?? "500,1000,1500,2000,3000,4000").split(",").map(Number);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 250);
const P99_LIMIT_MS = 300;
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
        maxBuffer: 1 << 24,
      });
      return JSON.parse(stdout.trim().split("\n").at(-1)!) as {
        count: number;
        target_per_s: number;
        achieved_per_s: number;
        p50_ms: number;
        p99_ms: number;
        statuses: Record<string, number>;
      };
    };
    const csrf = tokens.map(() => randomToken(24));
    /** `ATTEMPTS` attempts of the crowd for `collectionId`: every collector in turn, in a new random order. */
    const crowd = (collectionId: number) => {
      const order = tokens.map((_, i) => i);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      return Array.from({ length: ATTEMPTS }, (_, a) => {
        const i = order[a % order.length]!;
        return {
          cookie: `csrf=${csrf[i]}; sid=${tokens[i]}`,
          csrf: csrf[i]!,
          body: JSON.stringify({ collectionId, quantity: 1, idempotencyKey: randomBytes(12).toString("hex") }),
        };
      });
    };
    /** One step: a fresh sale, the crowd at `rate` over the instances `urls`, then the database's answer. */
    const step = async (urls: string[], rate: number) => {
      const collection = await publishedCollection(test, { editionSize: EDITIONS, perPersonLimit: 1 });
      const requestsFile = path.join(dir, "requests.json");
      writeFileSync(requestsFile, JSON.stringify(crowd(collection.id)));
      const load = os.loadavg()[0]!;
      const sale = await generate({
        origin: urls[0],
        origins: urls,
        path: RESERVE_PATH,
        rate,
        startAt: Date.now() + 500,
        connections: Math.ceil(CONNECTIONS / urls.length),
        requestsFile,
        headers: { "content-type": "application/json", origin: urls[0]! },
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
      const failed = Object.entries(sale.statuses)
        .filter(([status]) => status === "error" || status.startsWith("5"))
        .reduce((sum, [, n]) => sum + n, 0);
      return {
        rate,
        load_average_before: Math.round(load * 100) / 100,
        achieved_per_s: sale.achieved_per_s,
        p50_ms: sale.p50_ms,
        p99_ms: sale.p99_ms,
        answers: sale.statuses,
        sold: sold!.n,
        editions: EDITIONS,
        limit_violations: over!.n,
        holds: sale.p99_ms <= P99_LIMIT_MS && sale.achieved_per_s >= 0.95 * rate && failed === 0,
      };
    };
    /** Rising rates until one does not hold; the highest that held. */
    const phase = async (urls: string[]) => {
      await step(urls, 500); // warms every instance's code and connections
      const steps = [];
      for (const rate of RATES) {
        const result = await step(urls, rate);
        steps.push(result);
        console.log(
          `${urls.length} instance(s), ${rate}/s: p99 ${result.p99_ms} ms, sold ${result.sold}/${EDITIONS}, ` +
            `violations ${result.limit_violations}${result.holds ? "" : " — does not hold"}`,
        );
        if (!result.holds) break;
      }
      const held = steps.filter((s) => s.holds).map((s) => s.rate);
      return {
        instances: urls.length,
        sustained_attempts_per_s: held.length === 0 ? 0 : Math.max(...held),
        limit_violations: steps.reduce((sum, s) => sum + s.limit_violations, 0),
        oversold: steps.reduce((sum, s) => sum + Math.max(0, s.sold - EDITIONS), 0),
        steps,
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
      attempts_per_step: ATTEMPTS,
      open_loop: true,
      connections: CONNECTIONS,
      p99_limit_ms: P99_LIMIT_MS,
      one_instance: one,
      two_instances: two,
      ratio_two_to_one:
        one.sustained_attempts_per_s === 0
          ? null
          : Math.round((two.sustained_attempts_per_s / one.sustained_attempts_per_s) * 100) / 100,
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
