/**
 * `npm run bench:mint`: 10,000 paid orders across 5 collections minted end to
 * end by the real mint worker (planning, batching, chain transactions,
 * receipts, database updates) against `hardhat node` over JSON-RPC, mining a
 * block every 2 seconds (Besu QBFT's pace) with a 60 M gas limit, the worker
 * running at the production MINT_INTERVAL_MS. Duplicates and missing tokens
 * are counted from the chain (each collection's mint `Transfer` events per
 * order's recipient), not from our status column. PostgreSQL when
 * DATABASE_URL is set (a fresh database, dropped afterwards), PGlite
 * otherwise. Writes bench/results/mint.json.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { sql } from "drizzle-orm";
import { id as topicOf, zeroPadValue } from "ethers";

import { createChain, rpcProvider } from "../../server/chain/client.js";
import { loadConfig } from "../../server/config.js";
import { openDatabase } from "../../server/db/client.js";
import { createPlatform } from "../../server/platform.js";
import { createSeedCustody } from "../../server/modules/wallets/custody.js";
import { freePort, freshPostgresDatabase, pngBytes, testConfig } from "../../test/server/helpers.js";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 10_000);
const COLLECTIONS = 5;
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 200);
const BLOCK_TIME_S = 2;
const BLOCK_GAS_LIMIT = 60_000_000;
/**
 * Hardhat's chain follows EIP-1559: after a block more than half full its base fee rises by at least 1 wei
 * and never falls back to 0, so transactions at gas price 0 (Besu's free-gas network, which sets
 * `zeroBaseFee`) would wait forever. The roles are funded and pay 1 gwei instead.
 */
const GAS_PRICE = 1_000_000_000n;
/** The production default of MINT_INTERVAL_MS (server/config.ts), not a benchmark's own. */
const MINT_INTERVAL_MS = loadConfig({ NODE_ENV: "test" }).env.MINT_INTERVAL_MS;

/** `hardhat node` on a free port (the `benchNode` network: 60 M gas blocks); resolves once it serves. */
async function startNode(): Promise<{ url: string; node: ChildProcess }> {
  const port = await freePort();
  const node = spawn("npx", ["hardhat", "node", "--network", "benchNode", "--port", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("hardhat node did not start")), 120_000);
    node.stdout!.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Started HTTP")) {
        clearTimeout(timer);
        resolve();
      }
    });
    node.on("exit", (code) => reject(new Error(`hardhat node exited with ${code}`)));
  });
  node.stdout!.resume();
  node.stderr!.resume();
  return { url: `http://127.0.0.1:${port}`, node };
}

/** The platform deployed by Ignition over JSON-RPC, its roles held by the server's custody accounts. */
async function deployOver(url: string, mnemonic: string) {
  process.env.LOCAL_CHAIN_URL = url;
  const { network } = await import("hardhat");
  const PlatformModule = (await import("../../ignition/modules/Platform.js")).default;
  const connection = await network.connect({ network: "localhost" });
  const custody = createSeedCustody(mnemonic);
  // A deployment of its own (removed afterwards): the node is new each run.
  const deploymentId = `bench-mint-${randomBytes(4).toString("hex")}`;
  const deployed = await connection.ignition.deploy(PlatformModule, {
    deploymentId,
    parameters: {
      Platform: {
        kycOperator: custody.platformAddress("kycOperator"),
        compliance: custody.platformAddress("compliance"),
        publisher: custody.platformAddress("publisher"),
        platformAdmin: custody.platformAddress("platformAdmin"),
        minter: custody.platformAddress("minter"),
      },
    },
  });
  const addresses = {
    accessManager: await deployed.accessManager.getAddress(),
    identityRegistry: await deployed.identityRegistry.getAddress(),
    collectionFactory: await deployed.factory.getAddress(),
  };
  rmSync(path.join("ignition", "deployments", deploymentId), { recursive: true, force: true });
  return { custody, addresses };
}

async function benchDatabase() {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") {
    return { kind: "pglite", database: await openDatabase({ pgliteDataDir: "memory://" }) };
  }
  return { kind: "postgres", database: await freshPostgresDatabase(adminUrl, "shuzang_bench") };
}

type Platform = Awaited<ReturnType<typeof createPlatform>>;
type Chain = ReturnType<typeof createChain>;

/** Five published collections, 10,000 verified holders bound on chain and their paid orders with mint jobs. */
async function paidOrders(platform: Platform, chain: Chain) {
  const db = platform.db;
  // An issuer with five collections published through the factory.
  const issuerRows = (await db.execute(
    sql`insert into issuers (name, status, credit_code) values ('基准博物馆', 'approved', 'BENCH') returning id`,
  )) as unknown as { rows: { id: number }[] };
  const issuerId = Number(issuerRows.rows[0]!.id);
  const collectionIds: number[] = [];
  for (let c = 0; c < COLLECTIONS; c++) {
    const { sha256 } = await platform.catalog.registerMedia(db, issuerId, pngBytes(`bench-${c}`));
    const inserted = (await db.execute(sql`
      insert into collections (issuer_id, title, description, creator, story, media_sha256, edition_size, price_fen,
        sale_starts_at, sale_ends_at, per_person_limit, lock_days, regift_days, status)
      values (${issuerId}, ${`基准藏品 ${c + 1}`}, 'd', 'c', 's', ${sha256}, ${ORDERS}, 990,
        now() + interval '1 minute', now() + interval '1 day', 1, 180, 730, 'approved')
      returning id`)) as unknown as { rows: { id: number }[] };
    const id = Number(inserted.rows[0]!.id);
    await platform.catalog.publish(db, { id: 0, role: "operator" }, issuerId, id);
    collectionIds.push(id);
  }

  // 10,000 verified holders (random addresses bound in the registry) and their paid orders with mint jobs.
  const recipients = Array.from({ length: ORDERS }, () => `0x${randomBytes(20).toString("hex")}`);
  const expiresAt = BigInt(Math.floor(Date.now() / 1000) + 365 * 86_400);
  for (let i = 0; i < ORDERS; i += 250) {
    const slice = recipients.slice(i, i + 250);
    await chain.send("kycOperator", ({ registry }, overrides) =>
      registry.bindBatch(
        slice,
        slice.map((_, k) => `0x${(i + k + 1).toString(16).padStart(64, "0")}`),
        1,
        expiresAt,
        overrides,
      ),
    );
  }
  await db.execute(sql`
    insert into users (phone_hash, phone_cipher, phone_masked)
    select 'bench-' || n, 'sealed', '139****0000' from generate_series(1, ${ORDERS}::int) as n`);
  await db.execute(sql`
    insert into orders (order_no, user_id, collection_id, commitment, quantity, unit_price_fen, amount_fen, status,
      idempotency_key, expires_at, paid_at)
    select 'SZ20261124' || lpad(to_hex(n), 12, '0'), u.id, (array[${sql.raw(collectionIds.join(","))}])[1 + (n % ${COLLECTIONS})],
      'bench-' || n, 1, 990, 990, 'paid', 'bench-' || n, now(), now()
    from generate_series(1, ${ORDERS}::int) as n join users u on u.phone_hash = 'bench-' || n`);
  const recipientList = `{${recipients.join(",")}}`;
  // The registry outbox's record of those bindings, as the sync worker leaves it once they are on chain.
  await db.execute(sql`
    insert into registry_bindings (user_id, address, commitment, level, expires_at, status)
    select u.id, (${recipientList}::text[])[n], 'bench-' || n, 1, now() + interval '365 days', 'confirmed'
    from generate_series(1, ${ORDERS}::int) as n join users u on u.phone_hash = 'bench-' || n`);
  await db.execute(sql`
    insert into mint_jobs (order_id, collection_id, recipient, quantity)
    select o.id, o.collection_id, (${recipientList}::text[])[n], 1
    from generate_series(1, ${ORDERS}::int) as n join orders o on o.idempotency_key = 'bench-' || n`);

  return { collectionIds, recipients };
}

/** Each order's tokens as the chain has them: mint `Transfer` events of each collection, per recipient. */
async function countFromChain(platform: Platform, chain: Chain, collectionIds: number[], recipients: string[]) {
  const transfer = topicOf("Transfer(address,address,uint256)");
  const zero = zeroPadValue("0x00", 32);
  const perCollection = new Map<number, Map<string, number>>();
  const perBlock = new Map<number, number>();
  let tokens = 0;
  for (const id of collectionIds) {
    const address = await platform.catalog.contractOf(platform.db, id);
    const logs = await chain.provider.getLogs({ address, topics: [transfer, zero], fromBlock: 0, toBlock: "latest" });
    const holders = new Map<string, number>();
    for (const log of logs) {
      const to = `0x${log.topics[2]!.slice(26)}`.toLowerCase();
      holders.set(to, (holders.get(to) ?? 0) + 1);
      perBlock.set(log.blockNumber, (perBlock.get(log.blockNumber) ?? 0) + 1);
    }
    tokens += logs.length;
    perCollection.set(id, holders);
  }
  // Order n (1-based) went to recipients[n - 1] in collection n % COLLECTIONS, one token each.
  let duplicates = 0;
  let missing = 0;
  recipients.forEach((recipient, index) => {
    const collectionId = collectionIds[(index + 1) % COLLECTIONS]!;
    const got = perCollection.get(collectionId)!.get(recipient.toLowerCase()) ?? 0;
    duplicates += Math.max(0, got - 1);
    missing += Math.max(0, 1 - got);
  });
  return { tokens, duplicates, missing, perBlock };
}

async function main() {
  execFileSync("npx", ["hardhat", "build", "--quiet"], { stdio: "inherit" });
  const config = testConfig({ MINT_BATCH_SIZE: String(BATCH_SIZE), MINT_INTERVAL_MS: String(MINT_INTERVAL_MS) });
  const { url, node } = await startNode();
  try {
    const { custody, addresses } = await deployOver(url, config.secrets.walletMnemonic);
    const provider = rpcProvider(url);
    const rpc = provider as unknown as { send(method: string, params: unknown[]): Promise<unknown> };
    for (const role of ["minter", "kycOperator", "publisher", "compliance", "platformAdmin"] as const)
      await rpc.send("hardhat_setBalance", [custody.platformAddress(role), "0x3635c9adc5dea00000"]);
    const chain = createChain({ provider, addresses, custody, confirmations: 1, gasPrice: GAS_PRICE });
    const { kind, database } = await benchDatabase();
    const platform = await createPlatform(config, { database, chain, custody });
    const { collectionIds, recipients } = await paidOrders(platform, chain);

    // From here on the chain mines a block every 2 seconds, as Besu QBFT does.
    await rpc.send("evm_setAutomine", [false]);
    await rpc.send("evm_setIntervalMining", [BLOCK_TIME_S * 1000]);
    const worker = platform.mintWorker!;
    const loadBefore = os.loadavg();
    const firstBlock = await provider.getBlockNumber();
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    // When the bench first saw each block (its timestamp has whole seconds on the chain's own clock).
    const seenAt = new Map<number, number>();
    worker.start(MINT_INTERVAL_MS);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const [depth, block] = await Promise.all([worker.depth(), provider.getBlockNumber()]);
      if (!seenAt.has(block)) seenAt.set(block, elapsed());
      if (depth.pending + depth.inFlight === 0) break;
    }
    const seconds = elapsed();
    await worker.stop();
    const lastBlock = await provider.getBlockNumber();

    const counted = await countFromChain(platform, chain, collectionIds, recipients);
    // Each block of the run, from the chain: its transactions, gas used (millions), tokens minted (mint
    // `Transfer` events) and when the bench first saw it (seconds after the worker started, polled every 100 ms).
    const blockFill: { block: number; seen_s: number | null; txs: number; gas_used_m: number; tokens: number }[] = [];
    for (let n = firstBlock + 1; n <= lastBlock; n++) {
      const block = (await provider.getBlock(n))!;
      blockFill.push({
        block: n,
        seen_s: seenAt.has(n) ? Number(seenAt.get(n)!.toFixed(1)) : null,
        txs: block.transactions.length,
        gas_used_m: Number((Number(block.gasUsed) / 1e6).toFixed(1)),
        tokens: counted.perBlock.get(n) ?? 0,
      });
    }
    const batches = (await platform.db.execute(
      sql`select count(*)::int as n, count(*) filter (where status = 'confirmed')::int as confirmed from mint_batches`,
    )) as unknown as { rows: { n: number; confirmed: number }[] };
    const report = {
      benchmark: "mint",
      commit: execFileSync("git", ["rev-parse", "HEAD"]).toString().trim(),
      cores: os.cpus().length,
      // The machine's load average (1, 5, 15 min) before and after the run: a shared machine depresses the figure.
      load_average: {
        before: loadBefore.map((l) => Number(l.toFixed(2))),
        after: os.loadavg().map((l) => Number(l.toFixed(2))),
      },
      database: kind,
      chain: "hardhat node over JSON-RPC, interval mining",
      block_time_s: BLOCK_TIME_S,
      block_gas_limit: BLOCK_GAS_LIMIT,
      gas_price_wei: Number(GAS_PRICE),
      mint_interval_ms: MINT_INTERVAL_MS,
      pipeline_depth: config.env.MINT_PIPELINE_DEPTH,
      orders: ORDERS,
      collections: COLLECTIONS,
      batch_size: BATCH_SIZE,
      tokens: counted.tokens,
      seconds: Number(seconds.toFixed(2)),
      tokens_per_s: Math.round(counted.tokens / seconds),
      blocks: lastBlock - firstBlock,
      block_fill: blockFill,
      batches: batches.rows[0]!.n,
      batches_confirmed: batches.rows[0]!.confirmed,
      duplicates: counted.duplicates,
      missing: counted.missing,
      counted_from: "chain",
      target: { tokens_per_s: 500, duplicates: 0, missing: 0 },
    };
    await platform.database.close();
    const out = path.join("bench", "results", "mint.json");
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
  } finally {
    process.kill(-node.pid!, "SIGKILL");
  }
}

await main();
