import { inArray, sql } from "drizzle-orm";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { periodic } from "../../jobs.js";
import { add, moveBatches, roundSends, settled } from "./pipeline.js";
import { collectionsWithWork, planBatch } from "./planner.js";
import { mintJobs } from "./tables.js";

/**
 * The delivery pipeline: turns mint jobs into tokens, exactly once.
 *
 * Jobs of one collection are gathered into a batch (one `mintEach`
 * transaction). The batch is planned in the database first, with the token
 * id the collection must be at (`expectedFirstTokenId`) and its own id as the
 * on-chain `batchId`. Up to `pipelineDepth` batches of a collection are in
 * flight at once, each starting where the one before ends (a unique index
 * keeps two from being planned at the same id). Each round, and again after
 * any crash, the worker asks the chain where each collection is:
 * - past the batch and a `BatchMinted(batchId)` event exists → it landed:
 *   record the tokens (each job's tokens follow from the expected id);
 * - past its expected id without it → abandon the batch (the collection only
 *   moves forward, so it can never land); its jobs are planned again;
 * - at the expected id, or the batch before it is being sent → send it;
 * - ahead of the collection with no batch before it (that one was given up)
 *   → abandon it once none of its attempts can be mined any more: every
 *   nonce it was broadcast with (recorded on the batch before broadcasting)
 *   is used by a mined transaction; unused nonces of dropped transactions
 *   are used up by empty transactions.
 * Every batch to send is broadcast with the next nonce as soon as it is
 * planned (the chain mines the first while the next are planned), and the
 * receipts are settled as they come. The contract refuses a batch whose expected id is stale,
 * so a resent batch can never mint twice. A recipient the chain refuses
 * (frozen or no longer verified) has its job parked for an operator and its
 * order refunded.
 */

export interface MintWorkerOptions {
  db: Db;
  chain: Chain;
  clock?: () => Date;
  batchSize: number;
  /** Batches of one collection in flight at once (planned one after another, sent together); 1 when unset. */
  pipelineDepth?: number;
  /** The contract of a published collection. */
  contractOf: (db: Db, collectionId: number) => Promise<string>;
  /** Orders move to minting, minted, or back to paid when their job is parked. */
  onPlanned: (db: Db, orderIds: number[]) => Promise<void>;
  /** Once per landed batch, in the transaction that records it: each job's order and its tokens. */
  onMinted: (
    db: Db,
    minted: { orderId: number; collectionId: number; firstTokenId: number; quantity: number }[],
    txHash: string | null,
  ) => Promise<void>;
  onParked: (db: Db, orderId: number, reason: string) => Promise<void>;
  /** Told what each round did (metrics). */
  onRound?: (round: MintRound & { mintedTokens: number }) => void;
  /** Runs after each round, outside any transaction (e.g. asking the provider for refunds of parked orders). */
  afterRound?: () => Promise<void>;
  onError?: (error: unknown) => void;
}

export interface MintRound {
  minted: number;
  parked: number;
  failed: number;
}

/** What the planner and the settlement of batches work with. */
export interface MintContext {
  db: Db;
  chain: Chain;
  clock: () => Date;
  options: MintWorkerOptions;
  /** Tokens minted since the last round was reported. */
  mintedTokens: number;
  /** What the worker has learnt of gas: it sizes batches and their gas limits by it. */
  gas: {
    /** The last estimate's gas per token (every collection is the same contract); null before the first. */
    perToken: number | null;
    /** The chain's block gas limit, asked once the gas per token is known. */
    blockLimit: number | null;
  };
}

/**
 * One round: the batches planned before are moved on (reconciled, the ones due sent); then the collections
 * that have work are planned in passes, one batch of each per pass up to the pipeline depth, and each pass's
 * batches are sent as soon as they are planned (the chain mines them while the next pass is planned); the
 * round's first batch leaves alone as soon as it is planned (its gas estimate runs while the rest of the pass
 * is planned), so the next block is not left empty. The
 * receipts are settled as they come; the round ends once all are.
 */
async function round(ctx: MintContext): Promise<MintRound> {
  const sends = roundSends();
  const total = await moveBatches(ctx, sends);
  // One batch of each collection in turn, sent together as soon as they are planned (the chain mines them
  // while the next are planned), until every collection is at the pipeline depth or out of work.
  let open = await collectionsWithWork(ctx);
  // The round's first batch, leaving while the rest of the first pass is planned.
  let leading: Promise<MintRound> | null = null;
  let led = sends.sent.size > 0;
  while (open.length > 0) {
    const planned: number[] = [];
    for (const collectionId of open) {
      if (!(await planBatch(ctx, collectionId))) continue;
      planned.push(collectionId);
      if (!led) {
        led = true;
        leading = moveBatches(ctx, sends);
        leading.catch(() => undefined); // awaited (and its error thrown) below
      }
    }
    if (leading !== null) {
      const first = leading;
      leading = null;
      add(total, await first);
    }
    if (planned.length > 0) add(total, await moveBatches(ctx, sends));
    open = planned;
  }
  add(total, await settled(sends));
  return total;
}

export function createMintWorker(options: MintWorkerOptions) {
  const ctx: MintContext = {
    db: options.db,
    chain: options.chain,
    clock: options.clock ?? (() => new Date()),
    options,
    mintedTokens: 0,
    gas: { perToken: null, blockLimit: null },
  };

  async function runOnce(): Promise<MintRound> {
    const total = await round(ctx);
    options.onRound?.({ ...total, mintedTokens: ctx.mintedTokens });
    ctx.mintedTokens = 0;
    await options.afterRound?.();
    return total;
  }

  return {
    runOnce,
    /** Queue depth, for metrics and the operator view. */
    async depth(): Promise<{ pending: number; inFlight: number; parked: number }> {
      const rows = await ctx.db
        .select({ status: mintJobs.status, n: sql<number>`count(*)::int` })
        .from(mintJobs)
        .where(inArray(mintJobs.status, ["pending", "sent", "parked"])) // not the minted history
        .groupBy(mintJobs.status);
      const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
      return { pending: of("pending"), inFlight: of("sent"), parked: of("parked") };
    },
    ...periodic(runOnce, options.onError),
  };
}

export type MintWorker = ReturnType<typeof createMintWorker>;
