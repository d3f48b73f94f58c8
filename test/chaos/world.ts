import { type ChildProcess, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { Mnemonic } from "ethers";
import pg from "pg";

import { loadConfig } from "../../server/config.js";
import { Collection__factory } from "../../types/ethers-contracts/index.js";
import { type Platform, createPlatform } from "../../server/platform.js";
import { PLATFORM_ROLES, createSeedCustody } from "../../server/modules/wallets/custody.js";
import { createConsoleSmsProvider } from "../../server/providers/sms/console.js";
import {
  type TestPlatform,
  freePort,
  login,
  makeIdNumber,
  manualClock,
  newPhone,
  pngBytes,
  promote,
  redisAnswers,
  stepUp,
} from "../server/helpers.js";
import { type AlipayGatewayStandIn, startAlipayGateway } from "../server/stand-ins/alipay-gateway.js";
import { type TcpProxy, startTcpProxy } from "./tcp-proxy.js";

/**
 * The platform as it runs in production, for fault suites: the server as its
 * own process (`server/main.ts`, restartable and killable) on a PostgreSQL
 * database of its own, a `hardhat node` chain reached through a TCP proxy
 * that can cut it off, Redis as the admission gate when it answers, and the
 * payment provider outside the server: the live Alipay provider talking to a
 * stand-in gateway that holds the trades and retries its notifications.
 * Collectors, an issuer and an operator are seeded through the platform's
 * own services on the same database and chain before the server starts.
 */
export interface ChaosWorld {
  origin: string;
  gateway: AlipayGatewayStandIn;
  chainProxy: TcpProxy;
  /** JSON-RPC straight to the chain (not through the proxy). */
  chainUrl: string;
  db: pg.Pool;
  server: ServerProcess;
  /** Verified collectors, bound on chain. */
  collectors: Collector[];
  operatorToken: string;
  /** A collection published on chain and on sale now. */
  onSale(terms: { editionSize: number; perPersonLimit: number }): Promise<{ id: number; contractAddress: string }>;
  /**
   * Another server process on the same database, chain, Redis and provider, at its own port (same
   * PUBLIC_ORIGIN, so provider notifications still go to the first): extra API instances or a worker.
   */
  instance(env: Record<string, string>): Promise<{ origin: string; server: ServerProcess }>;
  /** Who holds each minted token of a contract, from the chain. */
  chainOwners(contractAddress: string): Promise<string[]>;
  close(): Promise<void>;
}

export interface Collector {
  userId: number;
  token: string;
  address: string;
}

export interface ServerProcess {
  readonly running: boolean;
  readonly starts: number;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

const APP_ID = "2021000000000042";
const pemOf = (key: ReturnType<typeof generateKeyPairSync>["publicKey"], type: "spki" | "pkcs8") =>
  key.export({ type, format: "pem" } as never).toString();

function waitForOutput(child: ChildProcess, text: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`no "${text}" within ${timeoutMs} ms:\n${seen}`)), timeoutMs);
    child.stdout!.on("data", (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before "${text}":\n${seen}`));
    });
  });
}

function finished(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
}

export async function startChaosWorld(options: { collectors: number; env?: Record<string, string> }) {
  const adminUrl = process.env.DATABASE_URL!;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const dataDir = mkdtempSync(path.join(tmpdir(), "shuzang-chaos-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  try {
    // The chain: `hardhat node`, the platform deployed by Ignition as `npm start` does.
    const chainPort = await freePort();
    const chainUrl = `http://127.0.0.1:${chainPort}`;
    const chain = spawn("npx", ["hardhat", "node", "--port", String(chainPort)], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    cleanups.push(() => {
      if (chain.exitCode === null) process.kill(-chain.pid!, "SIGKILL");
    });
    await waitForOutput(chain, "Started HTTP", 90_000);
    chain.stdout!.resume();
    chain.stderr!.resume();

    const mnemonic = Mnemonic.fromEntropy(randomBytes(16)).phrase;
    const custody = createSeedCustody(mnemonic);
    const parametersFile = path.join(dataDir, "ignition-parameters.json");
    writeFileSync(
      parametersFile,
      JSON.stringify({
        Platform: Object.fromEntries(PLATFORM_ROLES.map((role) => [role, custody.platformAddress(role)])),
      }),
    );
    const deploymentId = `chaos-${randomBytes(4).toString("hex")}`;
    const deploymentDir = path.join("ignition", "deployments", deploymentId);
    cleanups.push(() => rmSync(deploymentDir, { recursive: true, force: true }));
    const deploy = spawn(
      "npx",
      [
        "hardhat",
        "ignition",
        "deploy",
        "ignition/modules/Platform.ts",
        "--network",
        "localhost",
        "--deployment-id",
        deploymentId,
        "--parameters",
        parametersFile,
      ],
      { stdio: "ignore", env: { ...process.env, LOCAL_CHAIN_URL: chainUrl } },
    );
    if ((await finished(deploy)) !== 0) throw new Error("the Ignition deployment failed");
    const deploymentFile = path.join(dataDir, "deployed_addresses.json");
    writeFileSync(deploymentFile, readFileSync(path.join(deploymentDir, "deployed_addresses.json")));

    const chainProxy = await startTcpProxy({ host: "127.0.0.1", port: chainPort });
    cleanups.push(() => chainProxy.close());

    // The payment provider, outside the server: it survives every crash.
    const merchant = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const alipay = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const gateway = await startAlipayGateway({
      appId: APP_ID,
      merchantPublicKey: merchant.publicKey,
      alipayPrivateKey: alipay.privateKey,
      notifyRetryMs: 300,
    });
    cleanups.push(() => gateway.close());

    // The database: PostgreSQL, a fresh database dropped at the end.
    const dbName = `shuzang_chaos_${randomBytes(5).toString("hex")}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    cleanups.push(async () => {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${dbName} with (force)`);
      await dropper.end();
    });
    const databaseUrl = Object.assign(new URL(adminUrl), { pathname: `/${dbName}` }).toString();

    // A Redis database of its own (the server suites use 9 and 10), emptied before and after; CHAOS_REDIS_URL
    // gives another when several checkouts run the suites at once.
    const redisUrl = process.env.CHAOS_REDIS_URL ?? "redis://127.0.0.1:6379/11";
    const useRedis = await redisAnswers(redisUrl, { flush: true });
    if (useRedis) cleanups.push(() => redisAnswers(redisUrl, { flush: true }));
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const env: Record<string, string> = {
      NODE_ENV: "test",
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_ORIGIN: origin,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: "warn",
      PII_KEYS: `c1:${randomBytes(32).toString("base64")}`,
      PII_ACTIVE_KEY_ID: "c1",
      IDENTITY_PEPPER: randomBytes(32).toString("hex"),
      LOOKUP_PEPPER: randomBytes(32).toString("hex"),
      WALLET_MNEMONIC: mnemonic,
      CHAIN_RPC_URL: chainProxy.url,
      CHAIN_DEPLOYMENT_FILE: deploymentFile,
      CHAIN_GAS_PRICE: "0",
      PAYMENT_PROVIDER: "alipay",
      ALIPAY_APP_ID: APP_ID,
      ALIPAY_PRIVATE_KEY: pemOf(merchant.privateKey, "pkcs8"),
      ALIPAY_PUBLIC_KEY: pemOf(alipay.publicKey, "spki"),
      ALIPAY_GATEWAY: gateway.url,
      RESERVE_ATTEMPTS_PER_MINUTE: "10000",
      MINT_INTERVAL_MS: "200",
      MINT_BATCH_SIZE: "8",
      REGISTRY_SYNC_INTERVAL_MS: "200",
      ORDER_EXPIRY_INTERVAL_MS: "500",
      REFUND_RESEND_INTERVAL_MS: "500",
      REFUND_RESEND_AFTER_SECONDS: "2",
      OTP_RESEND_SECONDS: "1",
      ...(useRedis ? { REDIS_URL: redisUrl } : {}),
      ...options.env,
    };

    // Seeding, through the platform's own services (the seeding instance talks to the chain directly).
    const codes = new Map<string, string>();
    let lastCode = "";
    const seeding: Platform = await createPlatform(loadConfig({ ...env, CHAIN_RPC_URL: chainUrl }), {
      sms: createConsoleSmsProvider({
        onSend: (phone, code) => {
          codes.set(phone, code);
          lastCode = code;
        },
      }),
    });
    const clock = manualClock(new Date());
    const test: TestPlatform = {
      platform: seeding,
      clock: { ...clock, now: () => new Date() },
      codes,
      lastCode: () => lastCode,
      close: async () => undefined,
    };
    let collectors: Collector[];
    let operatorToken: string;
    let staffToken: string;
    try {
      const operator = await login(test, newPhone(), "10.1.0.1");
      await promote(seeding, operator.user.id, "operator");
      operatorToken = operator.token;
      const staff = await login(test, newPhone(), "10.1.0.2");
      await promote(seeding, staff.user.id, "issuer_staff");
      staffToken = staff.token;
      collectors = [];
      for (let i = 0; i < options.collectors; i++) {
        // Each from its own address: the login-code limits per IP would stop one address seeding a crowd.
        const person = await login(test, newPhone(), `10.0.${i >> 8}.${(i & 255) + 1}`);
        await stepUp(test, person.caller, "kyc");
        await person.caller.kyc.submit({
          name: "李华",
          idNumber: makeIdNumber("19880512", "310101", String(100 + i).padStart(3, "0")),
        });
        const { address } = await person.caller.kyc.status();
        collectors.push({ userId: person.user.id, token: person.token, address: address! });
      }
      for (let round = 0; round < 20; round++) {
        const { confirmed, failed } = await seeding.registrySync!.runOnce();
        if (confirmed === 0 && failed === 0) break;
      }
    } finally {
      await seeding.registrySync?.stop();
      await seeding.mintWorker?.stop();
      await seeding.gate.close();
      await seeding.database.close();
    }

    const db = new pg.Pool({ connectionString: databaseUrl, max: 3 });
    cleanups.push(() => db.end());
    const unbound = await db.query("select count(*)::int as n from registry_bindings where status <> 'confirmed'");
    if ((unbound.rows[0] as { n: number }).n !== 0) throw new Error("collectors were not bound on chain");

    const server = serverProcess(env, origin);
    cleanups.push(() => server.stop());

    const world: ChaosWorld = {
      origin,
      gateway,
      chainProxy,
      chainUrl,
      db,
      server,
      collectors,
      operatorToken,
      async onSale(terms) {
        const call = (token: string, procedure: string, input: unknown) =>
          trpc(origin, token, procedure, input) as Promise<Record<string, unknown>>;
        const media = await fetch(`${origin}/media`, {
          method: "POST",
          headers: {
            "content-type": "application/octet-stream",
            cookie: `sid=${staffToken}; csrf=chaos-csrf`,
            "x-csrf-token": "chaos-csrf",
          },
          body: new Uint8Array(pngBytes()),
        });
        if (!media.ok) throw new Error(`media upload: ${media.status} ${await media.text()}`);
        const { sha256 } = (await media.json()) as { sha256: string };
        const now = Date.now();
        const draft = await call(staffToken, "studio.createDraft", {
          title: "千里江山图·局部",
          description: "d",
          creator: "王希孟",
          story: "s",
          mediaSha256: sha256,
          editionSize: terms.editionSize,
          priceFen: 990,
          saleStartsAt: new Date(now + 600_000).toISOString(),
          saleEndsAt: new Date(now + 86_400_000).toISOString(),
          perPersonLimit: terms.perPersonLimit,
          lockDays: 180,
          regiftDays: 730,
        });
        await call(staffToken, "studio.submit", { collectionId: draft.id });
        await call(operatorToken, "review.decide", { collectionId: draft.id, approve: true });
        // A sale may not start in the past: publication moves the start to a few seconds from now, then waits.
        const startsAt = Date.now() + 3_000;
        const published = await call(staffToken, "studio.publish", {
          collectionId: draft.id,
          window: {
            saleStartsAt: new Date(startsAt).toISOString(),
            saleEndsAt: new Date(now + 86_400_000).toISOString(),
          },
        });
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, startsAt - Date.now() + 100)));
        return { id: Number(published.id), contractAddress: String(published.contractAddress) };
      },
      async instance(extra) {
        const instancePort = await freePort();
        const instanceOrigin = `http://127.0.0.1:${instancePort}`;
        const instance = serverProcess({ ...env, ...extra, PORT: String(instancePort) }, instanceOrigin);
        cleanups.push(() => instance.stop());
        return { origin: instanceOrigin, server: instance };
      },
      async chainOwners(contractAddress) {
        const { JsonRpcProvider } = await import("ethers");
        const provider = new JsonRpcProvider(chainUrl, undefined, { staticNetwork: true });
        try {
          const collection = Collection__factory.connect(contractAddress, provider);
          const next = Number(await collection.nextTokenId());
          const owners: string[] = [];
          for (let tokenId = 1; tokenId < next; tokenId++) owners.push(await collection.ownerOf(tokenId));
          return owners;
        } finally {
          provider.destroy();
        }
      },
      async close() {
        for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
      },
    };
    return world;
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
    throw error;
  }
}

/** Calls a tRPC procedure over HTTP as a browser would (session cookie, CSRF token); throws on a refusal. */
export async function trpc(origin: string, token: string, procedure: string, input: unknown): Promise<unknown> {
  const response = await fetch(`${origin}/trpc/${procedure}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      cookie: `sid=${token}; csrf=chaos-csrf`,
      "x-csrf-token": "chaos-csrf",
    },
    body: JSON.stringify(input),
    // A server killed mid-request can leave the call hanging: the caller's retry decides what then.
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await response.json()) as { result?: { data: unknown }; error?: { message: string } };
  if (!response.ok || body.error !== undefined)
    throw new TrpcRefusal(response.status, body.error?.message ?? String(response.status));
  return body.result!.data;
}

export class TrpcRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function serverProcess(env: Record<string, string>, origin: string): ServerProcess {
  let child: ChildProcess | null = null;
  let output = "";
  let starts = 0;
  const exited = (process: ChildProcess) =>
    process.exitCode !== null || process.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => process.once("exit", () => resolve()));
  return {
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    get starts() {
      return starts;
    },
    async start() {
      starts++;
      const started = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      child = started;
      started.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      started.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const deadline = Date.now() + 60_000;
      for (;;) {
        if (started.exitCode !== null)
          throw new Error(`the server exited (${started.exitCode}):\n${output.slice(-3000)}`);
        if (Date.now() > deadline) throw new Error(`the server did not come up:\n${output.slice(-3000)}`);
        const healthy = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(1000) })
          .then((response) => response.ok)
          .catch(() => false);
        if (healthy) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async kill() {
      if (child === null) return;
      const dying = exited(child);
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      await dying;
      child = null;
    },
    async stop() {
      if (child === null) return;
      const stopping = exited(child);
      try {
        process.kill(-child.pid!, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => child !== null && process.kill(-child.pid!, "SIGKILL"), 15_000);
      await stopping;
      clearTimeout(timer);
      child = null;
    },
    output: () => output,
  };
}
