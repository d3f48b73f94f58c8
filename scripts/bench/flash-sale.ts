/**
 * `npm run bench:flash-sale`: the storefront's buy button under an open-loop crowd, against the server as
 * production runs it.
 *
 * - The server is its own process, `server/main.ts` with the Node.js flags of `npm run serve` (a 64 MiB young
 *   generation), NODE_ENV=production and production's defaults (request logs at `info`, DB pool 10, reservation
 *   rate limit 20/min per person, load shedding at 1,000 ms of event-loop delay, the scheduler on), on a fresh
 *   PostgreSQL database (DATABASE_URL) and Redis (BENCH_REDIS_URL). Production
 *   refuses the sandbox providers, so the KYC, payment and SMS providers are the live ones talking to local stand-ins
 *   that speak their protocols. Every setting that differs from production is listed in the result with the reason.
 * - Seeded through the platform's own services on the same database: 20,000 people verified through the HTTP KYC
 *   provider, each with a session as a login leaves it.
 * - Steps of rising arrival rates (BENCH_RATES). Each step is a new sale: 10,000 editions, the per-person limit of
 *   the terms (BENCH_LIMIT, 2), the sale opening at T0, when the crowd comes: every person once, in random order,
 *   30 % of them with 2–5 attempts at once (adjacent arrivals, each its own purchase attempt as from several tabs).
 *   The load generator (scripts/bench/load-generator.ts, its own process) sends them at the step's rate whatever
 *   the answers, to `POST /trpc/drops.reserve` with the headers, cookies and body the storefront's tRPC client sends.
 *   Stepping stops at the first step whose p99 passes 300 ms (or whose rate the generator could not hold).
 * - The ceiling, in the same run: the same server answering `POST /api/bench/echo` (BENCH_ECHO_ROUTE) with the same
 *   headers, cookies and bodies, from the same generator, stepped the same way.
 * - Each sale is checked in the database with SQL of its own (not the code under test): slots sold against
 *   editions, editions per person (orders joined to identities by identity commitment), slots per order.
 *
 * Writes bench/results/flash-sale.json. BENCH_CPU_PROFILE=<file>: a V8 CPU profile of the server process over the
 * whole run (written when it stops), and its top functions in the result. Shrink a run with BENCH_COLLECTORS,
 * BENCH_EDITIONS, BENCH_RATES, BENCH_ECHO_RATES.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes, randomUUID } from "node:crypto";
import {
  closeSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { type IncomingMessage, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

import { sql } from "drizzle-orm";
import { Mnemonic } from "ethers";
import { Redis } from "ioredis";
import pg from "pg";

import { loadConfig } from "../../server/config.js";
import { openDatabase } from "../../server/db/client.js";
import { sessions } from "../../server/db/schema.js";
import { RESERVE_PATH } from "../../server/http/reserve-door.js";
import { type Platform, createPlatform } from "../../server/platform.js";
import { signKycRequest } from "../../server/providers/kyc/http.js";
import { randomToken } from "../../server/security/crypto.js";
import {
  type TestPlatform,
  freePort,
  freshPostgresDatabase,
  makeIdNumber,
  publishedCollection,
  redisAnswers,
} from "../../test/server/helpers.js";
import { startAlipayGateway } from "../../test/server/stand-ins/alipay-gateway.js";
import { startAliyunSmsStandIn } from "../../test/server/stand-ins/aliyun-sms.js";

const numbers = (value: string) =>
  value
    .split(",")
    .filter((part) => part.trim() !== "")
    .map((part) => Number(part.trim()));
const EDITIONS = Number(process.env.BENCH_EDITIONS ?? 10_000);
const COLLECTORS = Number(process.env.BENCH_COLLECTORS ?? 20_000);
const LIMIT = Number(process.env.BENCH_LIMIT ?? 2);
const RATES = numbers(process.env.BENCH_RATES ?? "2000,2500,3000,3500,4000,4500,5000,5500,6000,7000,8000,10000");
const ECHO_RATES = numbers(process.env.BENCH_ECHO_RATES ?? "4000,6000,8000,10000,12000,15000,17500,20000,25000,30000");
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1000);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379/8";
/** Share of the crowd that fires 2–5 attempts at once. */
const MULTI_SHARE = Number(process.env.BENCH_MULTI_SHARE ?? 0.3);
const P99_LIMIT_MS = 300;
/** BENCH_ALL_STEPS=1: run every rate even past a step that does not hold (to see a busy machine's whole curve). */
const ALL_STEPS = process.env.BENCH_ALL_STEPS === "1";
/** The sale opens this long after its step is set up: the generator starts and opens its connections before. */
const LEAD_MS = Number(process.env.BENCH_LEAD_MS ?? 3_000);
const ECHO_LEAD_MS = 3_000;
const ECHO_SECONDS = 3;
/**
 * Small sales to other people before the measured ones, as a running platform has served before its drop. Four:
 * after one, the first measured step still ran partly on code V8 had not yet optimized (its first two seconds
 * answered 1,100–1,400 of 2,000 attempts; p99 340–500 ms where the same rate a step later held at 150 ms);
 * after four, the first step is like any other.
 */
const WARMUP_COLLECTORS = Math.min(1_000, Math.ceil(COLLECTORS / 20));
const WARMUP_SALES = Number(process.env.BENCH_WARMUPS ?? 4);
const ALIPAY_APP_ID = "2021000000000042";
const ALIPAY_SELLER_ID = "2088000000000042";
const KYC_APP_ID = "shuzang-bench";

const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;
const run = promisify(execFile);

interface Person {
  token: string;
  csrf: string;
}

interface GeneratorResult {
  count: number;
  target_per_s: number;
  achieved_per_s: number;
  start_late_ms: number;
  max_send_late_ms: number;
  p99_send_late_ms: number;
  seconds: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  statuses: Record<string, number>;
  codes: Record<string, number>;
  by_status: Record<string, { count: number; p50_ms: number; p99_ms: number }>;
  first_success_ms: number | null;
  last_success_ms: number | null;
  by_second: { second: number; answers: number; p99_ms: number }[];
}

/** What a seeded database depends on: the keys its identities and sessions were written with. */
const KEPT_SECRETS = ["PII_KEYS", "IDENTITY_PEPPER", "LOOKUP_PEPPER"] as const;
type KeptSecrets = Record<(typeof KEPT_SECRETS)[number], string>;

/** A local verification API as the HTTP KYC provider speaks it (signed requests; every identity matches). */
async function startKycStandIn(secret: string) {
  let calls = 0;
  const server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const header = (name: string) => String(request.headers[name] ?? "");
    const expected = signKycRequest(secret, header("x-app-id"), header("x-timestamp"), header("x-nonce"), body);
    response.writeHead(200, { "content-type": "application/json" });
    if (header("x-app-id") !== KYC_APP_ID || header("x-signature") !== expected) {
      response.end(JSON.stringify({ code: "401", message: "bad signature" }));
      return;
    }
    calls++;
    response.end(JSON.stringify({ code: "0", result: "match", requestId: `bench-${calls}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/verify`,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const pem = (key: ReturnType<typeof generateKeyPairSync>["publicKey"], type: "spki" | "pkcs8") =>
  key.export({ type, format: "pem" } as never).toString();

/** The stand-ins of the providers production requires, and the server's environment around them. */
async function productionEnvironment(databaseUrl: string, dataDir: string, kept?: KeptSecrets) {
  const kycSecret = randomBytes(24).toString("hex");
  const kyc = await startKycStandIn(kycSecret);
  const merchant = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const alipayKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const alipay = await startAlipayGateway({
    appId: ALIPAY_APP_ID,
    merchantPublicKey: merchant.publicKey,
    alipayPrivateKey: alipayKeys.privateKey,
    sellerId: ALIPAY_SELLER_ID,
  });
  const sms = { accessKeyId: "LTAIbench", accessKeySecret: randomBytes(16).toString("hex") };
  const aliyun = await startAliyunSmsStandIn(sms);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    PUBLIC_ORIGIN: origin,
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    PII_KEYS: kept?.PII_KEYS ?? `b1:${randomBytes(32).toString("base64")}`,
    PII_ACTIVE_KEY_ID: "b1",
    IDENTITY_PEPPER: kept?.IDENTITY_PEPPER ?? randomBytes(32).toString("hex"),
    LOOKUP_PEPPER: kept?.LOOKUP_PEPPER ?? randomBytes(32).toString("hex"),
    WALLET_MNEMONIC: Mnemonic.fromEntropy(randomBytes(16)).phrase,
    CREDENTIAL_SIGNING_KEYS: `b1:${generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "der", type: "pkcs8" }).toString("base64")}`,
    KYC_PROVIDER: "http",
    KYC_HTTP_URL: kyc.url,
    KYC_HTTP_APP_ID: KYC_APP_ID,
    KYC_HTTP_SECRET: kycSecret,
    PAYMENT_PROVIDER: "alipay",
    ALIPAY_APP_ID,
    ALIPAY_SELLER_ID,
    ALIPAY_PRIVATE_KEY: pem(merchant.privateKey, "pkcs8"),
    ALIPAY_PUBLIC_KEY: pem(alipayKeys.publicKey, "spki"),
    ALIPAY_GATEWAY: alipay.url,
    SMS_PROVIDER: "aliyun",
    ALIYUN_SMS_ACCESS_KEY_ID: sms.accessKeyId,
    ALIYUN_SMS_ACCESS_KEY_SECRET: sms.accessKeySecret,
    ALIYUN_SMS_SIGN_NAME: "数藏",
    ALIYUN_SMS_TEMPLATE_CODE: "SMS_000000001",
    ALIYUN_SMS_ENDPOINT: aliyun.url,
    CHAIN_ENABLED: "false",
    ALLOW_MNEMONIC_ROLE_KEYS: "true",
    BENCH_ECHO_ROUTE: "true",
  };
  const differences = [
    {
      setting: "CHAIN_ENABLED=false",
      why:
        "no chain on the bench machine (a chain node would take the server's cores, where production has it on " +
        "other machines): the mint worker and the registry sync, which exist only with a chain, do not run; the " +
        "scheduler runs the other jobs (order expiry, refund resends, PII purge, reconciliation). No order of the " +
        "sale is paid during the run, so the mint worker would have had nothing to mint.",
    },
    {
      setting: "KYC_HTTP_URL, ALIPAY_GATEWAY, ALIYUN_SMS_ENDPOINT",
      why:
        "local stand-ins speaking the providers' protocols (signed requests) instead of the providers; the sale " +
        "itself calls none of them (people are verified and logged in before it)",
    },
    { setting: "ALLOW_MNEMONIC_ROLE_KEYS=true", why: "no remote signer without a chain; role keys are unused here" },
    {
      setting: "BENCH_ECHO_ROUTE=true",
      why: "adds POST /api/bench/echo for the ceiling; one more route, nothing else changes",
    },
    {
      setting: "PUBLIC_ORIGIN=http://127.0.0.1:<port>",
      why: "no TLS on the loopback: cookies lack the Secure flag; no TLS-terminating proxy in front",
    },
    {
      setting: "server/main.ts through tsx",
      why: "the same code as the tsc build (`npm run serve`); the loader compiles at start-up only",
    },
    {
      setting: "reservation rate-limit counters deleted between steps",
      why:
        "every step's crowd is the same 20,000 people, arriving at a new sale as at another day's drop; " +
        "within a step the limit (RESERVE_ATTEMPTS_PER_MINUTE, 20/min per person) is production's",
    },
    {
      setting: "sessions written by the bench",
      why:
        "20,000 people log in before the sale: their sessions are written as a login writes them, not through " +
        "20,000 SMS logins",
    },
  ];
  return {
    env,
    origin,
    differences,
    async close() {
      await kyc.close();
      await alipay.close();
      await aliyun.close();
    },
  };
}

/** People verified through the KYC service (the HTTP provider), each with a fresh session as a login leaves it. */
async function seedPeople(platform: Platform, count: number): Promise<Person[]> {
  const db = platform.db;
  const people: Person[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
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
        await db.insert(sessions).values({
          id: platform.identity.sessionIdOf(token),
          userId: account.id,
          userAgent: "Mozilla/5.0 (iPhone)",
          expiresAt: new Date(Date.now() + 86_400_000),
        });
        people[i] = { token, csrf: randomToken(24) };
      }
    }),
  );
  return people;
}

/**
 * The crowd of one sale, in arrival order: everyone once, shuffled; 30 % with 2–5 attempts side by side. Each
 * attempt is one purchase (its own idempotency key), the body the buy button sends.
 */
function crowd(people: Person[], collectionId: number) {
  const order = people.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const requests: { cookie: string; csrf: string; body: string }[] = [];
  for (const i of order) {
    const person = people[i]!;
    const attempts = Math.random() < MULTI_SHARE ? 2 + Math.floor(Math.random() * 4) : 1;
    for (let a = 0; a < attempts; a++) {
      requests.push({
        cookie: `csrf=${person.csrf}; sid=${person.token}`,
        csrf: person.csrf,
        body: JSON.stringify({ collectionId, quantity: 1, idempotencyKey: randomUUID() }),
      });
    }
  }
  return requests;
}

/**
 * BENCH_SEED_CACHE=<folder>, for working on the server (never for a recorded run): the seeded people are kept in
 * a template database and the folder, and later runs copy that database instead of seeding again (about 2.5
 * minutes on 2 cores). A run that finds no cache seeds one first; delete the folder to start over.
 */
async function seedCache(adminUrl: string, dir: string) {
  const folder = process.env.BENCH_SEED_CACHE;
  if (folder === undefined || folder === "") return null;
  const template = `shuzang_bench_seed_${COLLECTORS}`;
  const file = path.join(folder, `${template}.json`);
  if (!existsSync(file)) {
    const url = new URL(adminUrl);
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${template} with (force)`);
    await admin.query(`create database ${template}`);
    await admin.end();
    url.pathname = `/${template}`;
    const production = await productionEnvironment(url.toString(), path.join(dir, "seed"));
    const { REDIS_URL: _redis, ...env } = production.env;
    const platform = await createPlatform(loadConfig({ ...env, DATABASE_MIGRATIONS: "apply" }), {
      database: await openDatabase({ url: url.toString(), poolSize: 16 }),
      chain: null,
    });
    console.log(`seeding ${COLLECTORS} + ${WARMUP_COLLECTORS} verified people into ${template}…`);
    const people = await seedPeople(platform, COLLECTORS + WARMUP_COLLECTORS);
    await platform.gate.close();
    await platform.database.close();
    await production.close();
    const secrets = Object.fromEntries(KEPT_SECRETS.map((name) => [name, production.env[name]!])) as KeptSecrets;
    await mkdir(folder, { recursive: true });
    writeFileSync(file, JSON.stringify({ secrets, people }));
  }
  const kept = JSON.parse(readFileSync(file, "utf8")) as { secrets: KeptSecrets; people: Person[] };
  console.log(`seeded people from ${file} (template database ${template})`);
  return { template, ...kept };
}

/** What the sale left in the database, by SQL of its own. */
async function checkSale(platform: Platform, collectionId: number, limit: number) {
  const db = platform.db;
  const one = async <T>(query: ReturnType<typeof sql>) => rows<T>(await db.execute(query))[0]!;
  const slots = await one<{ sold: number; available: number }>(sql`
    select count(*) filter (where status <> 'available')::int as sold,
           count(*) filter (where status = 'available')::int as available
    from edition_slots where collection_id = ${collectionId}`);
  const ordered = await one<{ editions: number; orders: number }>(sql`
    select coalesce(sum(quantity), 0)::int as editions, count(*)::int as orders
    from orders where collection_id = ${collectionId} and status <> 'expired'`);
  // Per person: orders joined to identities by the identity commitment, whatever account placed them.
  const violations = await one<{ n: number }>(sql`
    select count(*)::int as n from (
      select k.user_id from orders o join kyc_identities k on k.commitment = o.commitment
      where o.collection_id = ${collectionId} and o.status <> 'expired'
      group by k.user_id having sum(o.quantity) > ${limit}) over_limit`);
  const orphans = await one<{ n: number }>(sql`
    select count(*)::int as n from orders o
    where o.collection_id = ${collectionId}
      and not exists (select 1 from kyc_identities k where k.commitment = o.commitment)`);
  // Each order holds exactly its quantity of slots, and each held slot belongs to one live order of this sale.
  const slotMismatches = await one<{ n: number }>(sql`
    select (select count(*) from orders o
            where o.collection_id = ${collectionId} and o.status <> 'expired'
              and o.quantity <> (select count(*) from edition_slots s
                                 where s.collection_id = o.collection_id and s.order_id = o.id))
         + (select count(*) from edition_slots s
            where s.collection_id = ${collectionId} and s.order_id is not null
              and not exists (select 1 from orders o where o.id = s.order_id
                              and o.collection_id = s.collection_id and o.status <> 'expired'))
         + (select count(*) - count(distinct (collection_id, edition_no)) from edition_slots
            where collection_id = ${collectionId} and order_id is not null) as n`);
  return {
    sold: slots.sold,
    left: slots.available,
    orders: ordered.orders,
    ordered_editions: ordered.editions,
    oversold: Math.max(0, slots.sold - EDITIONS) + Math.max(0, ordered.editions - EDITIONS),
    limit_violations: violations.n,
    orders_without_identity: orphans.n,
    slot_mismatches: Number(slotMismatches.n),
  };
}

async function generate(dir: string, load: Record<string, unknown>): Promise<GeneratorResult> {
  const file = path.join(dir, `load-${randomBytes(4).toString("hex")}.json`);
  writeFileSync(file, JSON.stringify(load));
  const { stdout } = await run(process.execPath, ["--import", "tsx", "scripts/bench/load-generator.ts", file], {
    maxBuffer: 1 << 24,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!) as GeneratorResult;
}

/** A step holds when its p99 is within the limit, the generator held the rate, and nothing failed or was shed. */
function holds(result: GeneratorResult): boolean {
  const failed = Object.entries(result.statuses)
    .filter(([status]) => status === "error" || status.startsWith("5"))
    .reduce((sum, [, n]) => sum + n, 0);
  return result.p99_ms <= P99_LIMIT_MS && result.achieved_per_s >= 0.95 * result.target_per_s && failed === 0;
}

function browserHeaders(origin: string, collectionId: number): Record<string, string> {
  return {
    "user-agent":
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) " +
      "Version/17.5 Mobile/15E148 Safari/604.1",
    accept: "*/*",
    "accept-language": "zh-CN,zh-Hans;q=0.9",
    "accept-encoding": "gzip, deflate, br",
    origin,
    referer: `${origin}/c/${collectionId}`,
  };
}

/**
 * The Node.js flags production starts the server with: those of `npm run serve` (package.json), so the benchmark's
 * server runs with the same heap settings as a deployed one.
 */
const PRODUCTION_NODE_FLAGS = (() => {
  const { scripts } = JSON.parse(readFileSync("package.json", "utf8")) as { scripts: Record<string, string> };
  const words = scripts.serve!.split(/\s+/);
  if (words[0] !== "node") throw new Error(`npm run serve does not start node: ${scripts.serve}`);
  return words.slice(1).filter((word) => word.startsWith("--"));
})();

function startServer(env: Record<string, string>, logFile: string, profileDir: string | null): ChildProcess {
  const log = openSync(logFile, "a");
  const flags = [
    ...PRODUCTION_NODE_FLAGS,
    ...(profileDir === null ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir]),
  ];
  const child = spawn(process.execPath, [...flags, "--import", "tsx", "server/main.ts"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  return child;
}

async function waitForHealth(origin: string, child: ChildProcess, logFile: string) {
  for (let i = 0; i < 240; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${readFileSync(logFile, "utf8").slice(-3000)}`);
    try {
      if ((await fetch(`${origin}/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`the server did not answer /healthz:\n${readFileSync(logFile, "utf8").slice(-3000)}`);
}

/** CPU time a process has used (user + system), from /proc on Linux; null elsewhere. */
function cpuMsOf(pid: number | undefined): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, fields 14 and 15 of stat, in clock ticks (100 a second on Linux).
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return null;
  }
}

/** Deletes the reservation rate-limit counters (the next step's crowd arrives as at another drop). */
async function resetRateLimits(redis: Redis) {
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", "shuzang:limit:reserve:*", "COUNT", 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== "0");
}

/** The top functions of a V8 CPU profile by self time. */
function topCosts(file: string, count = 25) {
  const profile = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
    samples: number[];
  };
  const byId = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const self = new Map<string, number>();
  for (const id of profile.samples) {
    const frame = byId.get(id)!;
    const where = frame.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(server|scripts)\//, "$1/");
    const key = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = profile.samples.length;
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, samples]) => ({ fn, self_pct: Math.round((samples / total) * 1000) / 10 }));
}

async function main() {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") {
    console.error(
      "bench:flash-sale runs on PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/test)",
    );
    process.exit(2);
  }
  if (!(await redisAnswers(REDIS_URL, { flush: true }))) {
    console.error(`bench:flash-sale runs with Redis as production does: nothing answers at ${REDIS_URL}`);
    process.exit(2);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), "shuzang-flash-"));
  const seed = await seedCache(adminUrl, dir);
  const database =
    seed === null
      ? await freshPostgresDatabase(adminUrl, "shuzang_bench", 16)
      : await freshPostgresDatabase(adminUrl, "shuzang_bench", 16, seed.template);
  const production = await productionEnvironment(database.url, path.join(dir, "data"), seed?.secrets);
  // The bench's own platform on the same database: migrations, seeding, new sales, and the checks.
  const { REDIS_URL: _redis, ...seedingEnv } = production.env;
  const platform = await createPlatform(loadConfig({ ...seedingEnv, DATABASE_MIGRATIONS: "apply" }), {
    database,
    chain: null,
  });
  const redis = new Redis(REDIS_URL);
  const profileDir = process.env.BENCH_CPU_PROFILE === undefined ? null : path.join(dir, "profile");
  const logFile = path.join(dir, "server.log");
  let server: ChildProcess | null = null;
  try {
    if (seed === null) console.log(`seeding ${COLLECTORS} + ${WARMUP_COLLECTORS} verified people…`);
    const seedStarted = Date.now();
    const everyone = seed?.people ?? (await seedPeople(platform, COLLECTORS + WARMUP_COLLECTORS));
    const people = everyone.slice(0, COLLECTORS);
    const warmupPeople = everyone.slice(COLLECTORS);
    const seedSeconds = Math.round((Date.now() - seedStarted) / 1000);
    console.log(`seeded in ${seedSeconds} s; starting the server (NODE_ENV=production)…`);
    server = startServer(production.env, logFile, profileDir);
    await waitForHealth(production.origin, server, logFile);
    const test = { platform, clock: { now: () => new Date() } } as unknown as TestPlatform;
    const origin = production.origin;

    /** A new sale opening at T0 = now + LEAD_MS. */
    const newSale = (editions: number) =>
      publishedCollection(test, { editionSize: editions, perPersonLimit: LIMIT, startsInMs: LEAD_MS });
    /** One step: the crowd at `rate` from T0 to `route` (the door, or the echo), for the sale of `collection`. */
    const step = async (rate: number, route: string, crowdOf: Person[], collection: { id: number }, t0: number) => {
      await resetRateLimits(redis);
      const requestsFile = path.join(dir, "requests.json");
      let requests = crowd(crowdOf, collection.id);
      // The echo's steps last ECHO_SECONDS at least (the crowd again, its requests as they were).
      if (route !== RESERVE_PATH)
        requests = Array.from({ length: Math.ceil((ECHO_SECONDS * rate) / requests.length) }, () => requests).flat();
      writeFileSync(requestsFile, JSON.stringify(requests));
      const cpuBefore = cpuMsOf(server!.pid);
      const result = await generate(dir, {
        origin,
        path: route,
        rate,
        startAt: t0 + 20,
        connections: CONNECTIONS,
        requestsFile,
        headers: browserHeaders(origin, collection.id),
      });
      const cpuAfter = cpuMsOf(server!.pid);
      const cpu = cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore;
      return {
        ...result,
        server_cpu_ms_per_request: cpu === null ? null : Math.round((cpu / result.count) * 1000) / 1000,
      };
    };
    const sale = async (rate: number, crowdOf: Person[], editions: number) => {
      const collection = await newSale(editions);
      const result = await step(rate, RESERVE_PATH, crowdOf, collection, collection.saleStartsAt.getTime());
      return { collection, result };
    };

    console.log("warming up: a small sale to other people…");
    let warmup = await sale(1_000, warmupPeople, Math.min(500, EDITIONS));
    for (let again = 1; again < WARMUP_SALES; again++)
      warmup = await sale(1_000, warmupPeople, Math.min(500, EDITIONS));

    const echoSteps: Record<string, unknown>[] = [];
    let ceiling = 0;
    // The echo's bodies name a collection as the door's do (the echo reads none).
    const echoCollection = await newSale(1);
    for (const rate of ECHO_RATES) {
      const result = await step(rate, "/api/bench/echo", people, echoCollection, Date.now() + ECHO_LEAD_MS);
      const held = holds(result);
      console.log(
        `echo ${rate}/s: achieved ${result.achieved_per_s}/s, p99 ${result.p99_ms} ms, ${JSON.stringify(result.statuses)}${held ? "" : " — does not hold"}`,
      );
      echoSteps.push({ ...summary(result), holds: held });
      if (held && echoSteps.every((earlier) => earlier.holds === true)) ceiling = rate;
      else if (!ALL_STEPS) break;
    }

    const saleSteps: Record<string, unknown>[] = [];
    let sustained: { rate: number; result: GeneratorResult; check: Awaited<ReturnType<typeof checkSale>> } | null =
      null;
    const totals = { limit_refusals: 0, limit_violations: 0, oversold: 0, slot_mismatches: 0, unsold_steps: 0 };
    for (const rate of RATES) {
      const { collection, result } = await sale(rate, people, EDITIONS);
      const check = await checkSale(platform, collection.id, LIMIT);
      const held = holds(result);
      const limitRefusals = result.codes["drop.limitReached"] ?? 0;
      totals.limit_refusals += limitRefusals;
      totals.limit_violations += check.limit_violations + check.orders_without_identity;
      totals.oversold += check.oversold;
      totals.slot_mismatches += check.slot_mismatches;
      if (check.sold !== EDITIONS) totals.unsold_steps++;
      console.log(
        `sale ${rate}/s: achieved ${result.achieved_per_s}/s, p99 ${result.p99_ms} ms, sold ${check.sold}/${EDITIONS}, ` +
          `limit refusals ${limitRefusals}, violations ${check.limit_violations}, ${JSON.stringify(result.codes)}${held ? "" : " — does not hold"}`,
      );
      saleSteps.push({
        ...summary(result),
        holds: held,
        sales_per_s: salesPerSecond(check.sold, result),
        limit_refusals: limitRefusals,
        ...check,
        sold_out: check.sold === EDITIONS,
      });
      if (held && saleSteps.every((earlier) => earlier.holds === true)) sustained = { rate, result, check };
      else if (!ALL_STEPS) break;
    }

    server.kill("SIGTERM");
    await new Promise((resolve) => server!.once("exit", resolve));
    server = null;
    const profile = profileDir === null ? null : writeProfile(profileDir);
    const serverLog = await logSummary(logFile);
    if (serverLog.errors > 0)
      console.log(`the server logged ${serverLog.errors} errors, e.g.:\n${serverLog.examples.join("\n")}`);

    const commit = (await run("git", ["rev-parse", "HEAD"])).stdout.trim();
    const sustainedRate = sustained?.rate ?? 0;
    const result = {
      benchmark: "flash-sale",
      route: `POST ${RESERVE_PATH}`,
      production_config: true,
      open_loop: true,
      commit,
      cores: os.cpus().length,
      node: process.version,
      database: "postgres",
      gate: "redis",
      sustained_attempts_per_s: sustainedRate,
      sales_per_s: sustained === null ? 0 : salesPerSecond(sustained.check.sold, sustained.result),
      p99_ms: sustained?.result.p99_ms ?? null,
      p50_ms: sustained?.result.p50_ms ?? null,
      ceiling_post_echo_per_s: ceiling,
      ratio_to_ceiling: ceiling === 0 ? 0 : Math.round((sustainedRate / ceiling) * 1000) / 1000,
      sold: sustained?.check.sold ?? 0,
      editions: EDITIONS,
      limit_refusals: totals.limit_refusals,
      limit_violations: totals.limit_violations,
      oversold: totals.oversold,
      slot_mismatches: totals.slot_mismatches,
      steps_not_sold_out: totals.unsold_steps,
      people: COLLECTORS,
      per_person_limit: LIMIT,
      crowd: { multi_attempt_share: MULTI_SHARE, attempts_each: "2–5 adjacent", others: 1 },
      connections: CONNECTIONS,
      p99_limit_ms: P99_LIMIT_MS,
      hold_rule: "p99 ≤ 300 ms, achieved rate ≥ 95 % of the target, no 5xx and no network error",
      steps: saleSteps,
      echo_steps: echoSteps,
      warm_up: {
        sales: WARMUP_SALES,
        people: WARMUP_COLLECTORS,
        editions: Math.min(500, EDITIONS),
        rate: 1_000,
        p99_ms: warmup.result.p99_ms,
        statuses: warmup.result.statuses,
      },
      seeding_seconds: seedSeconds,
      server_log: serverLog,
      differences_from_production: production.differences,
      server_node_flags: PRODUCTION_NODE_FLAGS,
      server_settings: Object.fromEntries(
        Object.entries(production.env).filter(
          ([name]) =>
            !/^(PII_KEYS|IDENTITY_PEPPER|LOOKUP_PEPPER|WALLET_MNEMONIC|CREDENTIAL_SIGNING_KEYS|.*_SECRET|.*PRIVATE_KEY|.*PUBLIC_KEY)$/.test(
              name,
            ),
        ),
      ),
      ...(profile === null ? {} : { cpu_profile: profile }),
      meets_targets:
        sustainedRate >= 5000 &&
        ceiling > 0 &&
        sustainedRate / ceiling >= 0.35 &&
        totals.limit_refusals > 0 &&
        totals.limit_violations === 0 &&
        totals.oversold === 0 &&
        totals.slot_mismatches === 0 &&
        totals.unsold_steps === 0,
      target: {
        sustained_attempts_per_s: 5000,
        p99_ms: P99_LIMIT_MS,
        ratio_to_ceiling: 0.35,
        oversold: 0,
        limit_violations: 0,
      },
    };
    await mkdir(path.join("bench", "results"), { recursive: true });
    await writeFile(path.join("bench", "results", "flash-sale.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify({ ...result, steps: undefined, echo_steps: undefined }, null, 2));
  } finally {
    if (server !== null) server.kill("SIGKILL");
    redis.disconnect();
    await platform.gate.close();
    await platform.database.close();
    await production.close();
    // BENCH_KEEP_FILES=1 keeps the server's log and the crowds (printed folder) for a closer look.
    if (process.env.BENCH_KEEP_FILES === "1") console.log(`files kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

/** Why a step did not hold: the generator fell behind its rate, the latency, or failures (5xx, network). */
function limitedBy(result: GeneratorResult): string[] {
  const reasons: string[] = [];
  if (result.achieved_per_s < 0.95 * result.target_per_s) reasons.push("generator below 95 % of the rate");
  if (result.p99_ms > P99_LIMIT_MS) reasons.push(`p99 over ${P99_LIMIT_MS} ms`);
  if (Object.keys(result.statuses).some((status) => status === "error" || status.startsWith("5")))
    reasons.push("5xx or network errors");
  return reasons;
}

function summary(result: GeneratorResult & { server_cpu_ms_per_request: number | null }) {
  return {
    server_cpu_ms_per_request: result.server_cpu_ms_per_request,
    limited_by: limitedBy(result),
    target_per_s: result.target_per_s,
    achieved_per_s: result.achieved_per_s,
    start_late_ms: result.start_late_ms,
    p99_send_late_ms: result.p99_send_late_ms,
    attempts: result.count,
    seconds: result.seconds,
    p50_ms: result.p50_ms,
    p90_ms: result.p90_ms,
    p99_ms: result.p99_ms,
    max_ms: result.max_ms,
    statuses: result.statuses,
    codes: result.codes,
    by_status: result.by_status,
    by_second: result.by_second,
  };
}

/** Editions sold per second, from T0 to the last sale's answer. */
function salesPerSecond(sold: number, result: GeneratorResult): number {
  return result.last_success_ms === null ? 0 : Math.round(sold / (result.last_success_ms / 1000));
}

/** The server's log over the run: lines, lines at error level or above (pino 50+), and the first few of those. */
async function logSummary(file: string) {
  const summary = { lines: 0, errors: 0, examples: [] as string[] };
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  for await (const line of lines) {
    summary.lines++;
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined && Number(level) >= 50) {
      summary.errors++;
      if (summary.examples.length < 5) summary.examples.push(line.slice(0, 500));
    }
  }
  return summary;
}

function writeProfile(profileDir: string) {
  const file = existsSync(profileDir) ? readdirSync(profileDir).find((name) => name.endsWith(".cpuprofile")) : null;
  if (file === undefined || file === null) return null;
  const source = path.join(profileDir, file);
  writeFileSync(process.env.BENCH_CPU_PROFILE!, readFileSync(source));
  return { file: process.env.BENCH_CPU_PROFILE!, top_self: topCosts(source) };
}

await main();
