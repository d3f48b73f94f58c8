import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Chain } from "../../server/chain/client.js";
import { createChainWorld } from "./chain.js";
import type { TestPlatform } from "./helpers.js";

/**
 * The mint pipeline: several batches of a collection in flight at once, landing one after another, and
 * exactly once whatever happens between their sending and their receipts.
 */
describe("delivery pipeline: several batches in flight, each landing exactly once", () => {
  let world: Awaited<ReturnType<typeof createChainWorld>>;
  let test: TestPlatform;
  let chain: Chain;
  let setup: Awaited<ReturnType<typeof createChainWorld>>["setup"];

  beforeEach(async () => {
    // Batches of 2 orders, up to 3 of a collection in flight.
    world = await createChainWorld({ MINT_BATCH_SIZE: "2", MINT_PIPELINE_DEPTH: "3" });
    ({ test, chain, setup } = world);
  });
  afterEach(async () => {
    await setup.provider.send("evm_setAutomine", [true]);
    await world.close();
  });

  const rpc = (method: string, params: unknown[] = []) => setup.provider.send(method, params);
  const pendingTransactions = async () => Number(await rpc("eth_getBlockTransactionCountByNumber", ["pending"]));

  /** A collection with six paid orders (three batches), and what the chain and the database say of them. */
  async function sixPaidOrders() {
    const collection = await world.onSale();
    const buyers: Awaited<ReturnType<typeof world.paidBuyer>>[] = [];
    for (let i = 0; i < 6; i++) buyers.push(await world.paidBuyer(collection.id));
    // Every payment notification delivered (a slow machine may need a retry of one): six mint jobs.
    await expect
      .poll(
        async () =>
          (
            (await test.platform.db.execute(sql`select count(*)::int as n from mint_jobs`)) as unknown as {
              rows: { n: number }[];
            }
          ).rows[0]!.n,
        { timeout: 60_000, interval: 250 },
      )
      .toBe(6);
    const contract = chain.collection(collection.contractAddress!);
    return {
      buyers,
      contract,
      async expectEachMintedOnce() {
        expect(await contract.totalSupply()).toBe(6n);
        const batches = await contract.queryFilter(contract.filters.BatchMinted());
        expect(batches).toHaveLength(3);
        for (const [index, buyer] of buyers.entries()) {
          expect(await contract.ownerOf(index + 1)).toBe(buyer.address);
          expect((await buyer.buyer.caller.orders.get({ orderNo: buyer.order.orderNo })).status).toBe("minted");
        }
        expect(await test.platform.mintWorker!.depth()).toEqual({ pending: 0, inFlight: 0, parked: 0 });
        // Each job's tokens, as recorded, are the ones the chain gave its recipient.
        const jobs = (await test.platform.db.execute(
          sql`select first_token_id as first from mint_jobs order by id`,
        )) as unknown as { rows: { first: number }[] };
        expect(jobs.rows.map((job) => job.first)).toEqual([1, 2, 3, 4, 5, 6]);
      },
    };
  }

  /** A second worker on the same database with its own chain client (another process, or the one before a crash). */
  async function otherWorker(receiptTimeoutMs?: number, onPlanned = test.platform.drops.markMinting) {
    const { createChain } = await import("../../server/chain/client.js");
    const { createMintWorker } = await import("../../server/modules/minting/worker.js");
    return createMintWorker({
      db: test.platform.db,
      chain: createChain({ ...setup, confirmations: 1, gasPrice: 0n, receiptTimeoutMs }),
      clock: test.clock.now,
      batchSize: 2,
      pipelineDepth: 3,
      contractOf: test.platform.catalog.contractOf,
      onPlanned,
      onMinted: async (tx, minted, txHash) => {
        await test.platform.drops.markMinted(
          tx,
          minted.map((m) => m.orderId),
          txHash ?? "",
        );
      },
      onParked: async () => undefined,
    });
  }

  it("sends every planned batch before any receipt and lands them in one block, in token order", async () => {
    const orders = await sixPaidOrders();
    await rpc("evm_setAutomine", [false]);
    const round = test.platform.mintWorker!.runOnce();
    // All three batches are with the node before the first is mined: none waits for another's receipt.
    await expect.poll(pendingTransactions, { timeout: 20_000 }).toBe(3);
    await rpc("evm_mine");
    expect(await round).toEqual({ minted: 6, parked: 0, failed: 0 });
    const receipts = (await test.platform.db.execute(
      sql`select expected_first_token_id as first, block_number as block, nonce from mint_batches order by id`,
    )) as unknown as { rows: { first: number; block: number; nonce: number }[] };
    expect(receipts.rows.map((r) => r.first)).toEqual([1, 3, 5]);
    expect(new Set(receipts.rows.map((r) => Number(r.block))).size).toBe(1);
    const nonces = receipts.rows.map((r) => r.nonce);
    expect(nonces).toEqual([nonces[0], nonces[0]! + 1, nonces[0]! + 2]);
    await orders.expectEachMintedOnce();
  });

  it("sends a batch as soon as it is planned: the node holds the first before the last is planned", async () => {
    const orders = await sixPaidOrders();
    await rpc("evm_setAutomine", [false]);
    // What the node holds of the minter's transactions each time a batch is planned.
    const heldAtPlanning: number[] = [];
    const worker = await otherWorker(undefined, async (tx, orderIds) => {
      heldAtPlanning.push(await pendingTransactions());
      await test.platform.drops.markMinting(tx, orderIds);
    });
    const round = worker.runOnce();
    await expect.poll(pendingTransactions, { timeout: 20_000 }).toBe(3);
    await rpc("evm_mine");
    expect(await round).toEqual({ minted: 6, parked: 0, failed: 0 });
    expect(heldAtPlanning).toHaveLength(3);
    expect(heldAtPlanning[0]).toBe(0);
    // Planning everything first would have left the node empty until all three were planned.
    expect(heldAtPlanning[2]).toBeGreaterThanOrEqual(1);
    await orders.expectEachMintedOnce();
  });

  it("mints each batch once when the worker dies between sending its batches and their receipts", async () => {
    const orders = await sixPaidOrders();
    await rpc("evm_setAutomine", [false]);
    // The dying worker broadcasts its three batches; the process ends before any is mined.
    const dying = await otherWorker();
    void dying.runOnce().catch(() => undefined);
    await expect.poll(pendingTransactions, { timeout: 20_000 }).toBe(3);

    // The restarted worker (after the dead one's lease) finds them planned and the collection not yet moved.
    test.clock.advance(61_000);
    const restarted = test.platform.mintWorker!.runOnce();
    await rpc("evm_mine");
    await rpc("evm_mine");
    await restarted;
    await rpc("evm_setAutomine", [true]);
    for (let round = 0; round < 3; round++) {
      test.clock.advance(61_000);
      await test.platform.mintWorker!.runOnce();
    }
    await orders.expectEachMintedOnce();
  });

  it("reconciles a dropped transaction from the chain: the batch is sent again, the ones behind it land once", async () => {
    const orders = await sixPaidOrders();
    await rpc("evm_setAutomine", [false]);
    const worker = await otherWorker(1_500);
    const round = worker.runOnce();
    await expect.poll(pendingTransactions, { timeout: 20_000 }).toBe(3);
    // The node loses the first batch's transaction: the two behind it wait on its nonce.
    const pending = (await rpc("eth_getBlockByNumber", ["pending", true])) as {
      transactions: { hash: string; nonce: string }[];
    };
    const first = [...pending.transactions].sort((a, b) => Number(a.nonce) - Number(b.nonce))[0]!;
    expect(await rpc("hardhat_dropTransaction", [first.hash])).toBe(true);
    await rpc("evm_mine");
    expect(await round).toEqual({ minted: 0, parked: 0, failed: 3 }); // no receipts within the timeout
    expect(await orders.contract.totalSupply()).toBe(0n);

    // The next rounds ask the chain: the collection is still at the dropped batch's first id, so it is sent
    // again with the free nonce, and the two waiting behind it land after it.
    for (let attempt = 0; attempt < 4; attempt++) {
      test.clock.advance(61_000);
      const next = worker.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await rpc("evm_mine");
      await next;
    }
    await rpc("evm_setAutomine", [true]);
    test.clock.advance(61_000);
    await worker.runOnce();
    await orders.expectEachMintedOnce();
    const batches = (await test.platform.db.execute(
      sql`select status, count(*)::int as n from mint_batches group by status`,
    )) as unknown as { rows: { status: string; n: number }[] };
    expect(batches.rows).toEqual([{ status: "confirmed", n: 3 }]);
  });
});
