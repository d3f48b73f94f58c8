import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { recordFigures } from "../server/reliability-report.js";
import { type ChaosWorld, type ServerProcess, TrpcRefusal, startChaosWorld, trpc } from "./world.js";

/**
 * The production shape: three API instances (SERVER_ROLE=api) and one worker
 * (SERVER_ROLE=worker, the only one running the periodic jobs) as separate
 * processes on one PostgreSQL, one Redis and one `hardhat node`. A flash sale
 * and its payments are spread over the API instances; one API instance and
 * the worker are killed with SIGKILL mid-sale (the worker is restarted, the
 * API instance is not: its clients move to the others). Afterwards stock is
 * exact, no person holds more than the limit, every paid order is minted
 * once — and a logout on one instance is refused at once on the others.
 */
const COLLECTORS = 36;
const EDITIONS = 40;
const LIMIT = 2;
/** Each collector fires this many attempts at once, one per instance, so the limit is tried across instances. */
const ATTEMPTS = 3;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const jitter = (from: number, to: number) => from + Math.random() * (to - from);

describe.skipIf(!process.env.DATABASE_URL)("three API instances and a worker (PostgreSQL, Redis, hardhat node)", () => {
  let world: ChaosWorld;
  const apis: { origin: string; server: ServerProcess }[] = [];
  let worker: ServerProcess;

  beforeAll(async () => {
    world = await startChaosWorld({ collectors: COLLECTORS, env: { SERVER_ROLE: "api", MINT_INTERVAL_MS: "500" } });
    await world.server.start();
    apis.push({ origin: world.origin, server: world.server });
    for (let i = 0; i < 2; i++) {
      const api = await world.instance({ SERVER_ROLE: "api" });
      await api.server.start();
      apis.push(api);
    }
    worker = (await world.instance({ SERVER_ROLE: "worker" })).server;
    await worker.start();
  }, 300_000);
  afterAll(async () => {
    await world?.close();
  });

  it("keeps stock, limits and delivery exact when an API instance and the worker die mid-sale", async () => {
    const collection = await world.onSale({ editionSize: EDITIONS, perPersonLimit: LIMIT });
    const deadline = Date.now() + 150_000;
    let moved = 0;
    /** Calls `procedure` on instance `preferred`, moving to the next live instance while one is down. */
    async function call(token: string, preferred: number, procedure: string, input: unknown): Promise<unknown> {
      for (let attempt = 0; ; attempt++) {
        const api = apis[(preferred + attempt) % apis.length]!;
        try {
          return await trpc(api.origin, token, procedure, input);
        } catch (error) {
          if (error instanceof TrpcRefusal && error.status < 500) throw error;
          if (Date.now() > deadline) throw error;
          moved++;
          await sleep(jitter(50, 200));
        }
      }
    }

    const orders: { orderNo: string; collector: number }[] = [];
    const refusals = new Map<string, number>();
    const crowd = world.collectors.map(async (person, index) => {
      await sleep(jitter(0, 6000));
      // Several attempts at once, each to another instance, each with its own key.
      await Promise.all(
        Array.from({ length: ATTEMPTS }, async (_, attempt) => {
          try {
            const reserved = (await call(person.token, index + attempt, "drops.reserve", {
              collectionId: collection.id,
              quantity: 1,
              idempotencyKey: `multi-${index}-${attempt}`,
            })) as { orderNo: string };
            orders.push({ orderNo: reserved.orderNo, collector: index });
            await call(person.token, index + attempt + 1, "payments.createIntent", { orderNo: reserved.orderNo });
            await sleep(jitter(0, 2000));
            world.gateway.pay(reserved.orderNo);
          } catch (error) {
            if (!(error instanceof TrpcRefusal)) throw error;
            refusals.set(error.message, (refusals.get(error.message) ?? 0) + 1);
          }
        }),
      );
    });
    // Mid-sale: the worker and the second API instance die; only the worker comes back.
    const killer = (async () => {
      await sleep(3000);
      await apis[1]!.server.kill();
      await worker.kill();
      await sleep(1500);
      await worker.start();
    })();
    await Promise.all(crowd);
    await killer;

    // The worker delivers everything paid (API instances run no jobs: only the worker can).
    const paid = new Set(
      [...world.gateway.trades.values()].filter((trade) => trade.paidAt !== undefined).map((t) => t.outTradeNo),
    );
    const settleStarted = Date.now();
    for (;;) {
      const { rows } = await world.db.query(
        `select
           (select count(*)::int from orders where status in ('paid', 'minting')) as undelivered,
           (select count(*)::int from payments where status = 'pending' and out_trade_no = any($1)) as unapplied`,
        [[...paid]],
      );
      const state = rows[0] as { undelivered: number; unapplied: number };
      if (state.undelivered === 0 && state.unapplied === 0) break;
      if (Date.now() - settleStarted > 120_000) throw new Error(`not settled after 120 s: ${JSON.stringify(state)}`);
      await sleep(250);
    }

    const orderRows = (
      await world.db.query(
        `select o.order_no, o.status, o.quantity, o.commitment, w.address
           from orders o join wallets w on w.user_id = o.user_id where o.collection_id = $1`,
        [collection.id],
      )
    ).rows as { order_no: string; status: string; quantity: number; commitment: string; address: string }[];
    const owners = await world.chainOwners(collection.contractAddress);
    const held = new Map<string, number>();
    for (const owner of owners) held.set(owner.toLowerCase(), (held.get(owner.toLowerCase()) ?? 0) + 1);
    const mintedBy = new Map<string, number>();
    for (const row of orderRows.filter((r) => r.status === "minted"))
      mintedBy.set(row.address.toLowerCase(), (mintedBy.get(row.address.toLowerCase()) ?? 0) + row.quantity);
    const overLimit = (
      await world.db.query(
        `select commitment from orders where collection_id = $1 and status in ('created', 'paid', 'minting', 'minted')
          group by commitment having sum(quantity) > $2`,
        [collection.id, LIMIT],
      )
    ).rows.length;
    const slots = (
      await world.db.query(
        "select status, count(*)::int as n from edition_slots where collection_id = $1 group by status",
        [collection.id],
      )
    ).rows as { status: string; n: number }[];
    const slot = (status: string) => slots.find((row) => row.status === status)?.n ?? 0;
    const sum = (statuses: string[]) =>
      orderRows.filter((row) => statuses.includes(row.status)).reduce((total, row) => total + row.quantity, 0);

    // A logout on one instance holds at once on every other.
    const person = world.collectors[0]!;
    const status = (origin: string) =>
      fetch(`${origin}/trpc/kyc.status`, { headers: { cookie: `sid=${person.token}` } }).then((r) => r.status);
    const before = await status(apis[2]!.origin);
    await trpc(apis[0]!.origin, person.token, "auth.logout", {});
    const after = await status(apis[2]!.origin);

    const figures = {
      api_instances: apis.length,
      killed: ["api-2", "worker"],
      collectors: COLLECTORS,
      attempts: COLLECTORS * ATTEMPTS,
      editions: EDITIONS,
      orders: orderRows.length,
      refusals: Object.fromEntries(refusals),
      moved_to_another_instance: moved,
      paid_orders: paid.size,
      tokens_on_chain: owners.length,
      over_limit: overLimit,
      worker_starts: worker.starts,
      stock: { sold: slot("sold"), reserved: slot("reserved"), available: slot("available") },
    };
    recordFigures("multi_instance", figures);

    expect(refusals.get("drop.limitReached") ?? 0).toBeGreaterThan(0);
    expect(overLimit).toBe(0);
    expect(slot("sold")).toBe(sum(["paid", "minting", "minted"]));
    expect(slot("reserved")).toBe(sum(["created"]));
    expect(slot("sold") + slot("reserved") + slot("available")).toBe(EDITIONS);
    expect(paid.size).toBeGreaterThan(0);
    expect(orderRows.filter((row) => paid.has(row.order_no)).every((row) => row.status === "minted")).toBe(true);
    expect(owners.length).toBe(sum(["minted"]));
    for (const [address, count] of held) expect(count).toBe(mintedBy.get(address));
    expect(before).toBe(200);
    expect(after).toBe(401);
  }, 600_000);
});
