import { and, asc, eq, inArray, sql } from "drizzle-orm";

import { violatedUniqueConstraint } from "../../db/errors.js";
import { addressBoundOnChain } from "../kyc/sql.js";
import { GAS_MARGIN } from "./pipeline.js";
import { mintBatches, mintJobs } from "./tables.js";
import type { MintContext } from "./worker.js";

// A job waits until its recipient's address is bound in the identity registry (the registry outbox
// sends bindings within a second or so): minting earlier would be refused by the chain and parked.
const recipientBound = addressBoundOnChain(sql`${mintJobs.recipient}`);

/**
 * The collections with jobs to plan (pending, their recipient bound), the one with the oldest job first. The
 * worker asks once a round, then plans their batches in turn.
 */
export async function collectionsWithWork(ctx: MintContext): Promise<number[]> {
  const rows = await ctx.db
    .select({ collectionId: mintJobs.collectionId })
    .from(mintJobs)
    .where(and(eq(mintJobs.status, "pending"), recipientBound))
    .groupBy(mintJobs.collectionId)
    .orderBy(sql`min(${mintJobs.id})`);
  return rows.map((row) => row.collectionId);
}

/** The collection of the oldest job to plan whose collection has fewer than `depth` batches in flight. */
async function oldestCandidate(ctx: MintContext, depth: number): Promise<number | undefined> {
  const [candidate] = await ctx.db
    .select({ collectionId: mintJobs.collectionId })
    .from(mintJobs)
    .where(
      and(
        eq(mintJobs.status, "pending"),
        recipientBound,
        sql`(select count(*) from mint_batches b where b.collection_id = ${mintJobs.collectionId} and b.status = 'planned') < ${depth}`,
      ),
    )
    .orderBy(asc(mintJobs.id))
    .limit(1);
  return candidate?.collectionId;
}

/** The share of a block's gas the planner sizes batches to fill (other transactions may share the block). */
const BLOCK_FILL = 0.99;

/**
 * How many jobs a batch takes: `batchSize`, or fewer so that blocks hold whole batches. Once the gas per token
 * is known, k batches fit a block when k - 1 of them (the gas they use) and the last (its gas limit, margin
 * included) do; the fewest k whose batches are at most `batchSize` gives the size. (Batches of `batchSize`
 * that fill 7.9 blocks' worth would leave most of the eighth's gas unused.)
 */
export async function batchLimit(ctx: MintContext): Promise<number> {
  const size = ctx.options.batchSize;
  const perToken = ctx.gas.perToken;
  if (perToken === null) return size;
  if (ctx.gas.blockLimit === null) {
    const block = await ctx.chain.provider.getBlock("latest").catch(() => null);
    if (block === null) return size;
    ctx.gas.blockLimit = Number(block.gasLimit);
  }
  const gas = ctx.gas.blockLimit * BLOCK_FILL;
  for (let k = 1; ; k++) {
    const n = Math.floor(gas / (perToken * (k - 1 + GAS_MARGIN)));
    if (n <= size) return Math.max(1, n);
  }
}

/**
 * Gathers pending jobs of one collection (`collectionId`, or the one with the oldest job to plan) with fewer
 * than `pipelineDepth` batches in flight into a planned batch; false when there is nothing to plan. A
 * collection's first batch in flight starts where the chain says the collection is (asked before planning);
 * each further one starts where the last planned one ends, so a collection's batches land one after another
 * in their nonce order. Two planners that race for the same first token id meet the unique index: one plans,
 * the other finds its work taken.
 */
export async function planBatch(ctx: MintContext, collectionId?: number): Promise<boolean> {
  const { db, chain, clock, options } = ctx;
  const depth = options.pipelineDepth ?? 1;
  const chosen = collectionId ?? (await oldestCandidate(ctx, depth));
  if (chosen === undefined) return false;
  const candidate = { collectionId: chosen };
  const [open] = await db
    .select({
      n: sql<number>`count(*)::int`,
      end: sql<number | null>`max(${mintBatches.expectedFirstTokenId} + ${mintBatches.tokenCount})`,
    })
    .from(mintBatches)
    .where(and(eq(mintBatches.collectionId, candidate.collectionId), eq(mintBatches.status, "planned")));
  if (open!.n >= depth) return false;
  const contractAddress = await options.contractOf(db, candidate.collectionId);
  const expected = open!.n > 0 ? Number(open!.end) : Number(await chain.collection(contractAddress).nextTokenId());
  const limit = await batchLimit(ctx);
  try {
    return await db.transaction(async (tx) => {
      const jobs = await tx
        .select()
        .from(mintJobs)
        .where(and(eq(mintJobs.status, "pending"), eq(mintJobs.collectionId, candidate.collectionId), recipientBound))
        .orderBy(asc(mintJobs.id))
        .limit(limit)
        .for("update", { skipLocked: true });
      if (jobs.length === 0) return false;
      const [batch] = await tx
        .insert(mintBatches)
        .values({
          collectionId: candidate.collectionId,
          contractAddress,
          expectedFirstTokenId: expected,
          tokenCount: jobs.reduce((sum, job) => sum + job.quantity, 0),
          nextAttemptAt: clock(),
        })
        .returning();
      await tx
        .update(mintJobs)
        .set({ status: "sent", batchId: batch!.id })
        .where(
          inArray(
            mintJobs.id,
            jobs.map((job) => job.id),
          ),
        );
      await options.onPlanned(
        tx,
        jobs.map((job) => job.orderId),
      );
      return true;
    });
  } catch (error) {
    // Another worker planned a batch of this collection from the same first token id first.
    if (violatedUniqueConstraint(error) === "mint_batches_one_planned_per_start") return false;
    throw error;
  }
}
