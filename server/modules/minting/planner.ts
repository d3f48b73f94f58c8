import { and, asc, eq, inArray, sql } from "drizzle-orm";

import { violatedUniqueConstraint } from "../../db/errors.js";
import { addressBoundOnChain } from "../kyc/sql.js";
import { mintBatches, mintJobs } from "./tables.js";
import type { MintContext } from "./worker.js";

// A job waits until its recipient's address is bound in the identity registry (the registry outbox
// sends bindings within a second or so): minting earlier would be refused by the chain and parked.
const recipientBound = addressBoundOnChain(sql`${mintJobs.recipient}`);

/**
 * Gathers pending jobs of one collection with fewer than `pipelineDepth` batches in flight into a planned
 * batch; false when none is left. A collection's first batch in flight starts where the chain says the
 * collection is (asked before planning); each further one starts where the last planned one ends, so a
 * collection's batches land one after another in their nonce order. Two planners that race for the same
 * first token id meet the unique index: one plans, the other finds its work taken.
 */
export async function planBatch(ctx: MintContext): Promise<boolean> {
  const { db, chain, clock, options } = ctx;
  const depth = options.pipelineDepth ?? 1;
  const [candidate] = await db
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
  if (candidate === undefined) return false;
  const contractAddress = await options.contractOf(db, candidate.collectionId);
  const [last] = await db
    .select({ end: sql<number>`${mintBatches.expectedFirstTokenId} + ${mintBatches.tokenCount}` })
    .from(mintBatches)
    .where(and(eq(mintBatches.collectionId, candidate.collectionId), eq(mintBatches.status, "planned")))
    .orderBy(sql`${mintBatches.expectedFirstTokenId} desc`)
    .limit(1);
  const expected =
    last !== undefined ? Number(last.end) : Number(await chain.collection(contractAddress).nextTokenId());
  try {
    return await db.transaction(async (tx) => {
      const jobs = await tx
        .select()
        .from(mintJobs)
        .where(and(eq(mintJobs.status, "pending"), eq(mintJobs.collectionId, candidate.collectionId), recipientBound))
        .orderBy(asc(mintJobs.id))
        .limit(options.batchSize)
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
