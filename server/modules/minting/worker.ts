import { and, asc, eq, lte, sql } from "drizzle-orm";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { backoffMs, errorSummary, periodic } from "../../jobs.js";
import { planBatch } from "./planner.js";
import { settle } from "./settlement.js";
import { mintBatches, mintJobs } from "./tables.js";

/**
 * The delivery pipeline: turns mint jobs into tokens, exactly once.
 *
 * Jobs of one collection are gathered into a batch (one `mintEach`
 * transaction). The batch is planned in the database first, with the token
 * id the collection must be at (`expectedFirstTokenId`) and its own id as the
 * on-chain `batchId`; only one batch per collection can be planned at a time.
 * Then, and again after any crash, the worker asks the chain:
 * - the collection is still at the expected id → the batch has not landed: send it;
 * - it is past the batch and a `BatchMinted(batchId)` event exists → it landed:
 *   record the tokens (each job's tokens follow from the expected id);
 * - anything else → abandon the batch; its jobs are planned again.
 * The contract refuses a batch whose expected id is stale, so a resent batch
 * can never mint twice. A recipient the chain refuses (frozen or no longer
 * verified) has its job parked for an operator and its order refunded.
 */

export interface MintWorkerOptions {
  db: Db;
  chain: Chain;
  clock?: () => Date;
  batchSize: number;
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
}

/** One round: plans every collection that has work, then moves each due batch on. */
async function round(ctx: MintContext): Promise<MintRound> {
  const { db, clock, options } = ctx;
  const total: MintRound = { minted: 0, parked: 0, failed: 0 };
  while (await planBatch(ctx)) {
    // Plan every collection that has work before sending anything.
  }
  const due = await db
    .select()
    .from(mintBatches)
    .where(and(eq(mintBatches.status, "planned"), lte(mintBatches.nextAttemptAt, clock())))
    .orderBy(asc(mintBatches.id));
  for (const batch of due) {
    try {
      const settled = await settle(ctx, batch);
      total.minted += settled.minted;
      total.parked += settled.parked;
      total.failed += settled.failed;
    } catch (error) {
      total.failed++;
      options.onError?.(error);
      const attempts = batch.attempts + 1;
      await db
        .update(mintBatches)
        .set({
          attempts,
          nextAttemptAt: new Date(clock().getTime() + backoffMs(attempts)),
          lastError: errorSummary(error),
        })
        .where(eq(mintBatches.id, batch.id));
    }
  }
  return total;
}

export function createMintWorker(options: MintWorkerOptions) {
  const ctx: MintContext = {
    db: options.db,
    chain: options.chain,
    clock: options.clock ?? (() => new Date()),
    options,
    mintedTokens: 0,
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
        .groupBy(mintJobs.status);
      const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
      return { pending: of("pending"), inFlight: of("sent"), parked: of("parked") };
    },
    ...periodic(runOnce, options.onError),
  };
}

export type MintWorker = ReturnType<typeof createMintWorker>;
