import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

import type { Chain } from "../../server/chain/client.js";
import { createChainWorld } from "./chain.js";
import type { TestPlatform } from "./helpers.js";

describe("delivery: paid orders become tokens exactly once", () => {
  let world: Awaited<ReturnType<typeof createChainWorld>>;
  let test: TestPlatform;
  let chain: Chain;
  let setup: Awaited<ReturnType<typeof createChainWorld>>["setup"];

  beforeEach(async () => {
    world = await createChainWorld();
    ({ test, chain, setup } = world);
  });
  afterEach(async () => {
    await world.close();
  });

  const onSale = (editionSize?: number) => world.onSale(editionSize);
  const paidBuyer = (collectionId: number, quantity?: number) => world.paidBuyer(collectionId, quantity);

  it("mints a batch of paid orders to their custodial addresses and marks them minted", async () => {
    const collection = await onSale();
    const a = await paidBuyer(collection.id, 2);
    const b = await paidBuyer(collection.id, 1);
    expect((await a.buyer.caller.orders.get({ orderNo: a.order.orderNo })).status).toBe("paid");

    expect(await test.platform.mintWorker!.runOnce()).toEqual({ minted: 2, parked: 0, failed: 0 });
    const contract = chain.collection(collection.contractAddress!);
    expect(await contract.totalSupply()).toBe(3n);
    expect(await contract.ownerOf(1)).toBe(a.address);
    expect(await contract.ownerOf(2)).toBe(a.address);
    expect(await contract.ownerOf(3)).toBe(b.address);
    const detail = await a.buyer.caller.orders.get({ orderNo: a.order.orderNo });
    expect(detail.status).toBe("minted");
    expect(detail.history.map((h) => h.to)).toEqual(["created", "paid", "minting", "minted"]);
    expect(await test.platform.mintWorker!.runOnce()).toEqual({ minted: 0, parked: 0, failed: 0 });
    expect(await test.platform.mintWorker!.depth()).toEqual({ pending: 0, inFlight: 0, parked: 0 });

    const metrics = (await world.app.inject("/metrics")).body;
    expect(metrics).toContain("shuzang_minted_tokens_total 3");
    expect(metrics).toContain('shuzang_mint_queue_jobs{state="pending"} 0');
    expect(metrics).toContain('shuzang_orders{status="minted"} 2');
    expect(metrics).toContain('shuzang_payment_notifications_total{outcome="applied"} 2');
    expect(metrics).toContain('shuzang_edition_slots{state="sold"} 3');
    expect(metrics).toMatch(/^shuzang_chain_rpc_latency_seconds (0|[0-9.e-]+)$/m);
    expect(metrics).not.toContain("shuzang_chain_rpc_latency_seconds -1");
  });

  it("recognises its own mined batch after a restart instead of sending it again", async () => {
    const collection = await onSale();
    const a = await paidBuyer(collection.id);
    const b = await paidBuyer(collection.id);
    // Same database, a worker whose send is mined and then the process dies.
    const crashing: Chain = {
      ...chain,
      send: async (role, build) => {
        await chain.send(role, build);
        throw new Error("killed");
      },
    };
    const { createMintWorker } = await import("../../server/modules/minting/worker.js");
    const marks: string[] = [];
    const dying = createMintWorker({
      db: test.platform.db,
      chain: crashing,
      clock: test.clock.now,
      batchSize: 10,
      contractOf: test.platform.catalog.contractOf,
      onPlanned: test.platform.drops.markMinting,
      onMinted: async () => {
        marks.push("minted");
      },
      onParked: async () => {
        marks.push("parked");
      },
    });
    expect(await dying.runOnce()).toMatchObject({ minted: 0, failed: 1 });
    expect(await chain.collection(collection.contractAddress!).totalSupply()).toBe(2n);

    // The restarted worker (after the backoff) finds the batch on chain and records it; nothing is minted again.
    test.clock.advance(5_000);
    // Asked of the node itself: ethers answers getBlockNumber from a request made up to 250 ms before (the
    // dying worker's receipt wait made one just before its transaction was mined).
    const blockNumber = async () => Number(await setup.provider.send("eth_blockNumber", []));
    const blockBefore = await blockNumber();
    expect(await test.platform.mintWorker!.runOnce()).toEqual({ minted: 2, parked: 0, failed: 0 });
    expect(await blockNumber()).toBe(blockBefore);
    expect(await chain.collection(collection.contractAddress!).totalSupply()).toBe(2n);
    expect((await a.buyer.caller.orders.get({ orderNo: a.order.orderNo })).status).toBe("minted");
    expect((await b.buyer.caller.orders.get({ orderNo: b.order.orderNo })).status).toBe("minted");
    expect(marks).toEqual([]);
  });

  it("mints a batch once when the worker dies after broadcasting and before the transaction is mined", async () => {
    const collection = await onSale();
    const a = await paidBuyer(collection.id);
    const b = await paidBuyer(collection.id);
    const contract = chain.collection(collection.contractAddress!);
    const { createChain } = await import("../../server/chain/client.js");
    const { createMintWorker } = await import("../../server/modules/minting/worker.js");
    await setup.provider.send("evm_setAutomine", [false]);
    try {
      // Another process's worker: it broadcasts the batch, then dies before the transaction is mined.
      const otherProcessChain = createChain({ ...setup, confirmations: 1, gasPrice: 0n });
      const dying = createMintWorker({
        db: test.platform.db,
        chain: otherProcessChain,
        clock: test.clock.now,
        batchSize: 10,
        contractOf: test.platform.catalog.contractOf,
        onPlanned: test.platform.drops.markMinting,
        onMinted: async () => undefined,
        onParked: async () => undefined,
      });
      void dying.runOnce().catch(() => undefined);
      await expect
        .poll(async () => Number(await setup.provider.send("eth_getBlockTransactionCountByNumber", ["pending"])))
        .toBe(1);

      // The restarted worker finds the batch planned and the collection not yet moved: it sends again, and the chain
      // takes whichever comes first; the contract refuses the other on its expected first token id.
      test.clock.advance(5_000);
      const restarted = test.platform.mintWorker!.runOnce();
      await setup.provider.send("evm_mine", []);
      await setup.provider.send("evm_mine", []);
      await restarted;
      await setup.provider.send("evm_mine", []);
    } finally {
      await setup.provider.send("evm_setAutomine", [true]);
    }
    for (let round = 0; round < 3; round++) {
      test.clock.advance(60_000);
      await test.platform.mintWorker!.runOnce();
    }

    expect(await contract.totalSupply()).toBe(2n);
    expect(await contract.queryFilter(contract.filters.BatchMinted())).toHaveLength(1);
    expect((await a.buyer.caller.orders.get({ orderNo: a.order.orderNo })).status).toBe("minted");
    expect((await b.buyer.caller.orders.get({ orderNo: b.order.orderNo })).status).toBe("minted");
    expect(await test.platform.mintWorker!.depth()).toEqual({ pending: 0, inFlight: 0, parked: 0 });
  });

  it("waits out a chain outage and completes the batch when the chain returns", async () => {
    const collection = await onSale();
    const a = await paidBuyer(collection.id);
    let down = true;
    const flaky: Chain = {
      ...chain,
      send: async (role, build) => {
        if (down) throw new Error("connect ECONNREFUSED 127.0.0.1:8545");
        return chain.send(role, build);
      },
    };
    const { createMintWorker } = await import("../../server/modules/minting/worker.js");
    const worker = createMintWorker({
      db: test.platform.db,
      chain: flaky,
      clock: test.clock.now,
      batchSize: 10,
      contractOf: test.platform.catalog.contractOf,
      onPlanned: test.platform.drops.markMinting,
      onMinted: async (tx, minted, txHash) => {
        await test.platform.drops.markMinted(
          tx,
          minted.map((m) => m.orderId),
          txHash ?? "",
        );
      },
      onParked: async () => undefined,
    });
    expect(await worker.runOnce()).toMatchObject({ minted: 0, failed: 1 });
    expect(await worker.runOnce()).toMatchObject({ minted: 0, failed: 0 }); // backing off
    down = false;
    test.clock.advance(3_000);
    expect(await worker.runOnce()).toMatchObject({ minted: 1, failed: 0 });
    expect(await chain.collection(collection.contractAddress!).ownerOf(1)).toBe(a.address);
  });

  it("parks the job of a recipient the chain refuses, refunds the order, and delivers the rest", async () => {
    const collection = await onSale();
    const frozen = await paidBuyer(collection.id);
    const fine = await paidBuyer(collection.id);
    await chain.send("compliance", ({ registry }, overrides) => registry.freeze(frozen.address, 9, overrides));

    const first = await test.platform.mintWorker!.runOnce();
    expect(first).toMatchObject({ parked: 1 });
    await test.platform.sandboxPayments!.whenIdle();
    // The other job goes back to planning once the batch is given up: planned again in the same round when
    // its parking settles while the round still plans, or in the next.
    const second = await test.platform.mintWorker!.runOnce();
    expect(first.minted + second.minted).toBe(1);
    expect(second.parked).toBe(0);
    expect(await chain.collection(collection.contractAddress!).ownerOf(1)).toBe(fine.address);
    const parkedOrder = await frozen.buyer.caller.orders.get({ orderNo: frozen.order.orderNo });
    expect(parkedOrder.status).toBe("refunded");
    expect(parkedOrder.history.map((h) => h.to)).toEqual(["created", "paid", "minting", "paid", "refunded"]);
    // Its buyer is told why: the delivery failed (kind only, not the chain's words).
    expect(parkedOrder.refund).toMatchObject({ status: "refunded", kind: "delivery-failed", reasonCode: null });
    const depth = await test.platform.mintWorker!.depth();
    expect(depth).toEqual({ pending: 0, inFlight: 0, parked: 1 });
    const jobs = (await test.platform.db.execute(
      sql`select status, parked_reason from mint_jobs order by id`,
    )) as unknown as {
      rows: { status: string; parked_reason: string | null }[];
    };
    expect(jobs.rows[0]).toEqual({ status: "parked", parked_reason: "recipient not verified on chain" });
  });

  it("parks a refused recipient of a later batch, once the worker knows its gas per token; mints the rest once", async () => {
    const collection = await onSale();
    const contract = chain.collection(collection.contractAddress!);
    const earlier = await paidBuyer(collection.id);
    // This batch's estimate gives the worker its gas per token (batches behind another are sent with it).
    expect(await test.platform.mintWorker!.runOnce()).toMatchObject({ minted: 1, parked: 0, failed: 0 });
    const frozen = await paidBuyer(collection.id);
    const fine = await paidBuyer(collection.id);
    await chain.send("compliance", ({ registry }, overrides) => registry.freeze(frozen.address, 9, overrides));

    // The batch is at the collection's next token id: its estimate finds the refused recipient, whose job is
    // parked, and the rest is planned again and minted, each once.
    const rounds = [];
    for (let i = 0; i < 6; i++) {
      rounds.push(await test.platform.mintWorker!.runOnce());
      await test.platform.sandboxPayments!.whenIdle();
      test.clock.advance(5_000);
    }
    expect(rounds.reduce((sum, r) => sum + r.parked, 0)).toBe(1);
    expect(rounds.reduce((sum, r) => sum + r.minted, 0)).toBe(1);
    expect(await contract.ownerOf(1)).toBe(earlier.address);
    expect(await contract.ownerOf(2)).toBe(fine.address);
    expect(await contract.balanceOf(frozen.address)).toBe(0n);
    expect(await contract.nextTokenId()).toBe(3n);
    expect(await test.platform.mintWorker!.depth()).toEqual({ pending: 0, inFlight: 0, parked: 1 });
    const parkedOrder = await frozen.buyer.caller.orders.get({ orderNo: frozen.order.orderNo });
    expect(parkedOrder.status).toBe("refunded");
    const fineOrder = await fine.buyer.caller.orders.get({ orderNo: fine.order.orderNo });
    expect(fineOrder.status).toBe("minted");
  });
});
