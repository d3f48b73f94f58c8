/**
 * `npm run bench:mint`: 10,000 paid orders across 5 collections minted end to
 * end on the local chain by the real mint worker (planning, batching, chain
 * transactions, receipts, database updates). PostgreSQL when DATABASE_URL is
 * set (a fresh database, dropped afterwards), PGlite otherwise. Writes
 * bench/results/mint.json.
 */
import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

import { sql } from "drizzle-orm";
import hre from "hardhat";

import { createChain } from "../../server/chain/client.js";
import { openDatabase } from "../../server/db/client.js";
import { createPlatform } from "../../server/platform.js";
import { deployChain } from "../../test/server/chain.js";
import { freshPostgresDatabase, pngBytes, testConfig } from "../../test/server/helpers.js";

const ORDERS = Number(process.env.BENCH_ORDERS ?? 10_000);
const COLLECTIONS = 5;
const BATCH_SIZE = Number(process.env.BENCH_BATCH_SIZE ?? 200);

async function benchDatabase() {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") {
    return { kind: "pglite", database: await openDatabase({ pgliteDataDir: "memory://" }) };
  }
  return { kind: "postgres", database: await freshPostgresDatabase(adminUrl, "shuzang_bench") };
}

async function main() {
  await hre.tasks.getTask("build").run({ quiet: true });
  const config = testConfig({ MINT_BATCH_SIZE: String(BATCH_SIZE) });
  const setup = await deployChain(config.secrets.walletMnemonic);
  const chain = createChain({ ...setup, confirmations: 1, gasPrice: 0n });
  const { kind, database } = await benchDatabase();
  const platform = await createPlatform(config, { database, chain, custody: setup.custody });
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
        now() - interval '1 day', now() + interval '1 day', 1, 180, 730, 'approved')
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

  const worker = platform.mintWorker!;
  const started = process.hrtime.bigint();
  let rounds = 0;
  for (;;) {
    await worker.runOnce();
    rounds++;
    const depth = await worker.depth();
    if (depth.pending + depth.inFlight === 0) break;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  let onChain = 0;
  for (const id of collectionIds)
    onChain += Number(await chain.collection(await platform.catalog.contractOf(db, id)).totalSupply());
  const minted = (await db.execute(sql`select count(*)::int as n from tokens`)) as unknown as { rows: { n: number }[] };
  const mintedOrders = (await db.execute(
    sql`select count(*)::int as n from orders where status = 'minted'`,
  )) as unknown as {
    rows: { n: number }[];
  };
  const report = {
    benchmark: "mint",
    database: kind,
    chain: "Hardhat EDR in-process",
    orders: ORDERS,
    collections: COLLECTIONS,
    batch_size: BATCH_SIZE,
    tokens: onChain,
    seconds: Number(seconds.toFixed(2)),
    tokens_per_s: Math.round(onChain / seconds),
    rounds,
    duplicates: Math.max(0, onChain - ORDERS),
    missing: ORDERS - Math.min(onChain, mintedOrders.rows[0]!.n),
    indexed_tokens: minted.rows[0]!.n,
    target: { tokens_per_s: 500, duplicates: 0, missing: 0 },
  };
  await platform.database.close();
  const out = path.join("bench", "results", "mint.json");
  await mkdir(path.dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(JSON.stringify(report, null, 2));
}

await main();
