import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { recordFigures } from "../server/reliability-report.js";
import { type ChaosWorld, type Collector, startChaosWorld, trpc } from "./world.js";

/**
 * Chain outage: while paid orders are being minted, the chain's RPC becomes
 * unreachable for 60 seconds (a network partition: open connections are cut,
 * new ones go unanswered). Collectors keep buying meanwhile. When the chain
 * is back, every mint job completes, none twice, and the server never stopped
 * serving the shop.
 */
const BUYERS = 12;
const OUTAGE_MS = 60_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!process.env.DATABASE_URL)("chain outage of 60 s during minting (PostgreSQL, hardhat node)", () => {
  let world: ChaosWorld;

  beforeAll(async () => {
    world = await startChaosWorld({ collectors: BUYERS });
    await world.server.start();
  }, 300_000);
  afterAll(async () => {
    await world?.close();
  });

  async function count(query: string, params: unknown[] = []): Promise<number> {
    const { rows } = await world.db.query(query, params);
    return (rows[0] as { n: number }).n;
  }

  it("completes every mint job once the chain is back, none twice, and keeps the shop open meanwhile", async () => {
    const collection = await world.onSale({ editionSize: BUYERS, perPersonLimit: 1 });
    const { origin } = world;

    async function buy(person: Collector, index: number) {
      const order = (await trpc(origin, person.token, "drops.reserve", {
        collectionId: collection.id,
        quantity: 1,
        idempotencyKey: `outage-buyer-${index}`,
      })) as { orderNo: string };
      await trpc(origin, person.token, "payments.createIntent", { orderNo: order.orderNo });
      expect(world.gateway.pay(order.orderNo)).toBe(true);
      return order.orderNo;
    }

    // The first half pay; the outage starts the moment their mint is on its way.
    const first = world.collectors.slice(0, BUYERS / 2);
    await Promise.all(first.map((person, index) => buy(person, index)));
    for (let i = 0; i < 200 && (await count("select count(*)::int as n from mint_batches")) === 0; i++) await sleep(25);
    world.chainProxy.down();
    const outageStarted = Date.now();

    // During the outage the shop keeps selling and taking payments; readiness reports the chain as down.
    const second = world.collectors.slice(BUYERS / 2);
    await Promise.all(second.map((person, index) => buy(person, BUYERS / 2 + index)));
    await sleep(5_000);
    const health = await fetch(`${origin}/healthz`);
    const readiness = await fetch(`${origin}/readyz`);
    const paidDuringOutage = await count(
      "select count(*)::int as n from orders where collection_id = $1 and status in ('paid', 'minting', 'minted')",
      [collection.id],
    );
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - outageStarted)));
    const mintedDuringOutage = await count("select count(*)::int as n from tokens where collection_id = $1", [
      collection.id,
    ]);
    world.chainProxy.up();
    const outageMs = Date.now() - outageStarted;

    // Recovery: all jobs minted.
    const recoveryStarted = Date.now();
    for (;;) {
      const open = await count("select count(*)::int as n from mint_jobs where status <> 'minted'");
      if (open === 0) break;
      if (!world.server.running) throw new Error(`the server exited:\n${world.server.output().slice(-4000)}`);
      if (Date.now() - recoveryStarted > 180_000) {
        const { rows } = await world.db.query(
          "select id, status, attempts, next_attempt_at, last_error, expected_first_token_id from mint_batches",
        );
        throw new Error(
          `${open} mint jobs still open 180 s after the outage; batches ${JSON.stringify(rows)}\n` +
            world.server.output().slice(-6000),
        );
      }
      await sleep(250);
    }
    const recoveryMs = Date.now() - recoveryStarted;

    const owners = (await world.chainOwners(collection.contractAddress)).map((owner) => owner.toLowerCase());
    const expected = world.collectors.map((person) => person.address.toLowerCase()).sort();
    const batches = (
      await world.db.query(
        "select status, count(*)::int as n, sum(attempts)::int as attempts from mint_batches group by status",
      )
    ).rows as { status: string; n: number; attempts: number }[];
    const tokensInDb = await count("select count(*)::int as n from tokens where collection_id = $1", [collection.id]);
    const duplicates = owners.length - new Set(owners).size;
    const proxy = world.chainProxy.stats();
    const readyAfter = await fetch(`${origin}/readyz`);

    recordFigures("chain_outage", {
      outage_s: Math.round(outageMs / 100) / 10,
      jobs: BUYERS,
      paid_during_outage: paidDuringOutage,
      minted_during_outage: mintedDuringOutage,
      minted: owners.length,
      duplicates,
      lost: BUYERS - new Set(owners).size,
      batches: Object.fromEntries(batches.map((row) => [row.status, row.n])),
      send_attempts: batches.reduce((sum, row) => sum + row.attempts, 0),
      recovery_s: Math.round(recoveryMs / 100) / 10,
      connections_blackholed: proxy.blackholed,
      ready_during_outage: readiness.status,
      server_restarts: world.server.starts - 1,
      server_still_running: world.server.running,
    });

    expect(outageMs).toBeGreaterThanOrEqual(OUTAGE_MS);
    expect(health.status).toBe(200);
    expect(readiness.status).toBe(503);
    expect(readyAfter.status).toBe(200);
    expect(paidDuringOutage).toBe(BUYERS);
    expect(mintedDuringOutage).toBeLessThan(BUYERS);
    expect(proxy.blackholed).toBeGreaterThan(0);
    expect([...owners].sort()).toEqual(expected);
    expect(duplicates).toBe(0);
    expect(tokensInDb).toBe(BUYERS);
    expect(await count("select count(*)::int as n from orders where status = 'minted'")).toBe(BUYERS);
    // The same process all along: the outage neither crashed it nor needed a restart.
    expect(world.server.running).toBe(true);
    expect(world.server.starts).toBe(1);
  }, 600_000);
});
