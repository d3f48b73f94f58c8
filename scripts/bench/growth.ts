/**
 * `npm run bench:growth`: whether the platform's hot and periodic costs stay flat as it grows. On a fresh
 * PostgreSQL database (DATABASE_URL; dropped afterwards) it times, on an empty platform and again after
 * bulk-inserting 1,000,000 historical mint jobs (with their orders, batches and 200,000 registry bindings):
 * the mint worker's plan of a 200-job batch (planning plus reading the batch's jobs back, as the send
 * does), a page's stock read, and a reservation through the real service, against a 1,000-edition and a
 * 200,000-edition collection (half sold each). Medians of 7 runs. Writes bench/results/growth.json.
 */
import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

import { eq, sql } from "drizzle-orm";

import type { Chain } from "../../server/chain/client.js";
import { createPlatform } from "../../server/platform.js";
import { planBatch } from "../../server/modules/minting/planner.js";
import { mintJobs } from "../../server/modules/minting/tables.js";
import type { MintContext } from "../../server/modules/minting/worker.js";
import { freshPostgresDatabase, pngBytes, testConfig } from "../../test/server/helpers.js";

const HISTORY_JOBS = Number(process.env.BENCH_HISTORY_JOBS ?? 1_000_000);
const HISTORY_BINDINGS = 200_000;
const SMALL_EDITIONS = 1_000;
const LARGE_EDITIONS = 200_000;
const BATCH = 200;
const RUNS = 7;

type Platform = Awaited<ReturnType<typeof createPlatform>>;

const rows = <T>(result: unknown) => (result as { rows: T[] }).rows;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const ms = (started: bigint) => Number(process.hrtime.bigint() - started) / 1e6;

async function timed(runs: number, run: (i: number) => Promise<unknown>, reset?: () => Promise<unknown>) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = process.hrtime.bigint();
    await run(i);
    times.push(ms(started));
    await reset?.();
  }
  return Number(median(times).toFixed(2));
}

/** A published collection of `editions` editions, half of them sold. */
async function collection(platform: Platform, issuerId: number, label: string, editions: number) {
  const db = platform.db;
  const { sha256 } = await platform.catalog.registerMedia(db, issuerId, pngBytes(`growth-${label}`));
  const contract = `0x${Buffer.from(label.padEnd(20, "-")).toString("hex").slice(0, 40)}`;
  const [row] = rows<{ id: number }>(
    await db.execute(sql`
    insert into collections (issuer_id, title, description, creator, story, media_sha256, edition_size, price_fen,
      sale_starts_at, sale_ends_at, per_person_limit, lock_days, regift_days, status, contract_address)
    values (${issuerId}, ${label}, 'd', 'c', 's', ${sha256}, ${editions}, 990, now() - interval '1 day',
      now() + interval '1 day', 5, 180, 730, 'published', ${contract})
    returning id`),
  );
  const id = Number(row!.id);
  await db.execute(sql`
    insert into edition_slots (collection_id, edition_no, status, order_id)
    select ${id}, n, case when n <= ${editions / 2} then 'sold' else 'available' end,
      case when n <= ${editions / 2} then n end
    from generate_series(1, ${editions}::int) as n`);
  return id;
}

/** `count` users, verified and bound on chain, named `prefix-n`; returns their ids and addresses. */
async function holders(platform: Platform, prefix: string, count: number) {
  const db = platform.db;
  const users = rows<{ id: number; n: number }>(
    await db.execute(sql`
    insert into users (phone_hash, phone_cipher, phone_masked)
    select ${prefix} || '-' || n, 'sealed', '139****0000' from generate_series(1, ${count}::int) as n
    returning id, substring(phone_hash from ${prefix.length + 2})::int as n`),
  ).sort((a, b) => a.n - b.n);
  const ids = users.map((u) => Number(u.id));
  await db.execute(sql`
    insert into kyc_identities (user_id, name_cipher, id_number_cipher, name_masked, id_number_masked, commitment,
      provider, provider_reference, verified_at, expires_at)
    select id, 'sealed', 'sealed', '张*', '1101**********0000', ${prefix} || '-c-' || id, 'sandbox', 'ref', now(), now() + interval '1 year'
    from users where phone_hash like ${prefix + "-%"}`);
  await db.execute(sql`
    insert into registry_bindings (user_id, address, commitment, level, expires_at, status)
    select id, '0x' || lpad(to_hex(id), 40, '0'), ${prefix} || '-c-' || id, 1, now() + interval '1 year', 'confirmed'
    from users where phone_hash like ${prefix + "-%"}`);
  return ids.map((id) => ({ id, address: `0x${id.toString(16).padStart(40, "0")}` }));
}

/** 200 paid orders of `collectionId` with pending mint jobs, ready to be planned. */
async function pendingJobs(platform: Platform, label: string, collectionId: number) {
  const buyers = await holders(platform, `buyer-${label}`, BATCH);
  await platform.db.execute(sql`
    with placed as (
      insert into orders (order_no, user_id, collection_id, commitment, quantity, unit_price_fen, amount_fen, status,
        idempotency_key, expires_at, paid_at)
      select 'G' || ${label} || u.id, u.id, ${collectionId}, 'c-' || u.id, 1, 990, 990, 'paid', 'k', now(), now()
      from unnest(${`{${buyers.map((b) => b.id).join(",")}}`}::bigint[]) as u (id)
      returning id, user_id)
    insert into mint_jobs (order_id, collection_id, recipient, quantity)
    select placed.id, ${collectionId}, '0x' || lpad(to_hex(placed.user_id), 40, '0'), 1 from placed`);
}

/** 1,000,000 minted jobs of an old collection with their orders and batches, bound holders (bulk SQL). */
async function history(platform: Platform, issuerId: number) {
  const db = platform.db;
  const collectionId = await collection(platform, issuerId, "history", 1_000);
  const bound = await holders(platform, "holder", HISTORY_BINDINGS);
  const first = bound[0]!.id;
  // Bulk history rows reference rows known to exist: the per-row foreign-key checks are skipped for the load
  // (PostgreSQL's replica role; the bench connects as a superuser).
  await db.transaction(async (tx) => {
    await tx.execute(sql`set local session_replication_role = replica`);
    await tx.execute(sql`
      insert into orders (order_no, user_id, collection_id, commitment, quantity, unit_price_fen, amount_fen, status,
        idempotency_key, expires_at, paid_at)
      select 'H' || n, ${first} + n % ${HISTORY_BINDINGS}, ${collectionId}, 'h', 1, 990, 990, 'minted', 'h-' || n, now(),
        now()
      from generate_series(1, ${HISTORY_JOBS}::int) as n`);
    const batches = rows<{ id: number }>(
      await tx.execute(sql`
      insert into mint_batches (collection_id, contract_address, expected_first_token_id, token_count, status,
        next_attempt_at, nonce)
      select ${collectionId}, 'history', 1 + (n - 1) * ${BATCH}, ${BATCH}, 'confirmed', now(), n
      from generate_series(1, ${Math.ceil(HISTORY_JOBS / BATCH)}::int) as n
      returning id`),
    );
    const firstBatch = Math.min(...batches.map((b) => Number(b.id)));
    await tx.execute(sql`
      insert into mint_jobs (order_id, collection_id, recipient, quantity, status, batch_id, first_token_id)
      select o.id, ${collectionId}, '0x' || lpad(to_hex(o.user_id), 40, '0'), 1, 'minted',
        ${firstBatch} + (substring(o.order_no from 2)::int - 1) / ${BATCH}, substring(o.order_no from 2)::int
      from orders o where o.order_no like 'H%'`);
  });
  await db.execute(sql`analyze`);
}

/** Times the plan, the stock read and a reservation against a collection of `editions` editions. */
async function measure(platform: Platform, issuerId: number, label: string, editions: number) {
  const db = platform.db;
  const minting = await collection(platform, issuerId, `mint-${label}`, 1_000);
  await pendingJobs(platform, label, minting);
  const onSale = await collection(platform, issuerId, `sale-${label}`, editions);
  const buyers = await holders(platform, `reserver-${label}`, RUNS);
  await db.execute(sql`analyze`);
  const chain = { collection: () => ({ nextTokenId: async () => 1n }) } as unknown as Chain;
  const ctx: MintContext = {
    db,
    chain,
    clock: () => new Date(),
    mintedTokens: 0,
    gas: { perToken: null, blockLimit: null },
    options: {
      db,
      chain,
      batchSize: BATCH,
      pipelineDepth: 1,
      contractOf: platform.catalog.contractOf,
      onPlanned: platform.drops.markMinting,
      onMinted: async () => undefined,
      onParked: async () => undefined,
    },
  };
  const plan = await timed(
    RUNS,
    async () => {
      if (!(await planBatch(ctx))) throw new Error("nothing planned");
      const [batch] = rows<{ id: number }>(await db.execute(sql`select id from mint_batches where status = 'planned'`));
      // What the send does next: the batch's jobs, by batch id.
      const jobs = await db
        .select()
        .from(mintJobs)
        .where(eq(mintJobs.batchId, Number(batch!.id)));
      if (jobs.length !== BATCH) throw new Error(`planned ${jobs.length} jobs`);
    },
    async () => {
      await db.execute(sql`update mint_jobs set status = 'pending', batch_id = null where status = 'sent'`);
      await db.execute(sql`update mint_batches set status = 'abandoned' where status = 'planned'`);
      await db.execute(sql`update orders set status = 'paid' where collection_id = ${minting}`);
    },
  );
  const stock = await timed(RUNS * 3, () => platform.drops.stock(db, onSale));
  const reserve = await timed(RUNS, (i) =>
    platform.drops.reserve(db, buyers[i]!.id, { collectionId: onSale, quantity: 1, idempotencyKey: `g-${i}` }),
  );
  const left = await platform.drops.stock(db, onSale);
  if (left.available !== editions / 2 - RUNS) throw new Error(`stock counter off: ${JSON.stringify(left)}`);
  return { plan, stock, reserve };
}

async function main() {
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl === undefined || adminUrl === "") throw new Error("bench:growth runs on PostgreSQL: set DATABASE_URL");
  const database = await freshPostgresDatabase(adminUrl, "shuzang_growth");
  const platform = await createPlatform(testConfig(), { database });
  try {
    const [issuer] = rows<{ id: number }>(
      await platform.db.execute(
        sql`insert into issuers (name, status, credit_code) values ('增长基准', 'approved', 'GROWTH') returning id`,
      ),
    );
    const issuerId = Number(issuer!.id);
    const small = await measure(platform, issuerId, "small", SMALL_EDITIONS);
    const started = process.hrtime.bigint();
    await history(platform, issuerId);
    const buildSeconds = ms(started) / 1000;
    const large = await measure(platform, issuerId, "large", LARGE_EDITIONS);
    const report = {
      benchmark: "growth",
      commit: execFileSync("git", ["rev-parse", "HEAD"]).toString().trim(),
      cores: os.cpus().length,
      database: "postgres",
      history_mint_jobs: HISTORY_JOBS,
      history_bindings: HISTORY_BINDINGS,
      editions_small: SMALL_EDITIONS,
      editions_large: LARGE_EDITIONS,
      batch_size: BATCH,
      runs: RUNS,
      history_build_s: Number(buildSeconds.toFixed(1)),
      plan_ms_small: small.plan,
      plan_ms_large: large.plan,
      stock_ms_small: small.stock,
      stock_ms_large: large.stock,
      reserve_ms_small: small.reserve,
      reserve_ms_large: large.reserve,
      target: { large_over_small_at_most: 2, stock_ms_large_at_most: 5 },
    };
    const out = path.join("bench", "results", "growth.json");
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report, null, 2));
  } finally {
    await platform.database.close();
  }
}

await main();
