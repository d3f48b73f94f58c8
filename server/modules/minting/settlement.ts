import { and, asc, eq, sql } from "drizzle-orm";
import type { Interface } from "ethers";

import { mintBatches, mintJobs } from "./tables.js";
import type { MintContext, MintRound } from "./worker.js";

/** What becomes of a planned batch once the chain has been asked: landed, abandoned, sent, or parked. */

export type Batch = typeof mintBatches.$inferSelect;

/** The address in a `CollectionUnverifiedAccount(address)` revert, if that is what `error` is. */
export function refusedRecipient(error: unknown, contractInterface: Interface): string | null {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const data = (current as { data?: unknown }).data;
    if (typeof data === "string" && data.startsWith("0x")) {
      try {
        const parsed = contractInterface.parseError(data);
        if (parsed?.name === "CollectionUnverifiedAccount") return String(parsed.args[0]);
      } catch {
        return null;
      }
    }
    current = (current as { error?: unknown; cause?: unknown }).error ?? (current as { cause?: unknown }).cause;
  }
  return null;
}

async function jobsOf(ctx: MintContext, batchId: number) {
  return ctx.db.select().from(mintJobs).where(eq(mintJobs.batchId, batchId)).orderBy(asc(mintJobs.id));
}

/** Records a landed batch (once: a batch no longer planned is left alone); each job's tokens follow from the expected id. */
export async function confirm(ctx: MintContext, batch: Batch, txHash: string | null, blockNumber: number | null) {
  const jobs = await jobsOf(ctx, batch.id);
  let next = batch.expectedFirstTokenId;
  const minted = jobs.map((job) => {
    const entry = {
      jobId: job.id,
      orderId: job.orderId,
      collectionId: job.collectionId,
      firstTokenId: next,
      quantity: job.quantity,
    };
    next += job.quantity;
    return entry;
  });
  const recorded = await ctx.db.transaction(async (tx) => {
    const claimed = await tx
      .update(mintBatches)
      .set({ status: "confirmed", txHash, blockNumber, lastError: null })
      .where(and(eq(mintBatches.id, batch.id), eq(mintBatches.status, "planned")))
      .returning({ id: mintBatches.id });
    if (claimed.length === 0) return false; // another worker recorded it
    // One statement for the whole batch: each job gets its first token id.
    await tx.execute(sql`
      update mint_jobs as m set status = 'minted', first_token_id = v.first_token_id
      from (select unnest(${`{${minted.map((m) => m.jobId).join(",")}}`}::bigint[]) as id,
                   unnest(${`{${minted.map((m) => m.firstTokenId).join(",")}}`}::int[]) as first_token_id) as v
      where m.id = v.id`);
    await ctx.options.onMinted(tx, minted, txHash);
    return true;
  });
  if (!recorded) return 0;
  ctx.mintedTokens += batch.tokenCount;
  return jobs.length;
}

/**
 * Whether no attempt of `batch` can be mined any more, so its jobs may be planned again: it was never
 * broadcast, or the minter's mined transaction count is past every nonce it was broadcast with (each nonce
 * was used by some mined transaction, this batch's or another's).
 */
export async function noAttemptLeft(ctx: MintContext, batch: Batch): Promise<boolean> {
  if (batch.nonce === null) return true;
  const { latest } = await ctx.chain.transactionCounts("minter");
  return latest > batch.nonce;
}

/** Gives up a batch that cannot land; its jobs (but parked ones) are planned again. */
export async function abandon(ctx: MintContext, batchId: number, reason: string) {
  await ctx.db.transaction(async (tx) => {
    const claimed = await tx
      .update(mintBatches)
      .set({ status: "abandoned", lastError: reason })
      .where(and(eq(mintBatches.id, batchId), eq(mintBatches.status, "planned")))
      .returning({ id: mintBatches.id });
    if (claimed.length === 0) return;
    await tx
      .update(mintJobs)
      .set({ status: "pending", batchId: null })
      .where(and(eq(mintJobs.batchId, batchId), eq(mintJobs.status, "sent")));
  });
}

/** Parks the batch's jobs for a recipient the chain refused, then abandons the batch. */
export async function park(ctx: MintContext, batchId: number, recipient: string, reason: string) {
  const jobs = await jobsOf(ctx, batchId);
  let parked = 0;
  await ctx.db.transaction(async (tx) => {
    for (const job of jobs) {
      if (job.recipient.toLowerCase() !== recipient.toLowerCase() || job.status !== "sent") continue;
      await tx
        .update(mintJobs)
        .set({ status: "parked", batchId: null, parkedReason: reason })
        .where(eq(mintJobs.id, job.id));
      await ctx.options.onParked(tx, job.orderId, reason);
      parked++;
    }
  });
  await abandon(ctx, batchId, reason);
  return parked;
}

/** What to do with a planned batch, given where the chain says its collection is. */
export type Verdict = { kind: "done"; round: MintRound } | { kind: "send" } | { kind: "wait" };

/**
 * Asks the chain about one planned batch: landed (its `BatchMinted` event) → recorded; the collection moved
 * past it without it → abandoned (it can never land: the collection only moves forward); at its first token
 * id → sent; ahead of the collection → sent after the batch before it when that one is being sent, otherwise
 * an orphan (the batch before it was given up): abandoned once none of its attempts can be mined any more.
 */
export async function reconcile(
  ctx: MintContext,
  batch: Batch,
  next: number,
  predecessor: "sending" | "open" | "none",
): Promise<Verdict> {
  const contract = ctx.chain.collection(batch.contractAddress);
  const failed = { kind: "done", round: { minted: 0, parked: 0, failed: 1 } } as const;
  if (next >= batch.expectedFirstTokenId + batch.tokenCount) {
    const events = await contract.queryFilter(contract.filters.BatchMinted(batch.id));
    const event = events.find((e) => Number((e as { args?: unknown[] }).args?.[1]) === batch.expectedFirstTokenId);
    if (event === undefined) {
      await abandon(ctx, batch.id, `collection moved past token ${batch.expectedFirstTokenId} without this batch`);
      return failed;
    }
    const minted = await confirm(ctx, batch, event.transactionHash, event.blockNumber);
    return { kind: "done", round: { minted, parked: 0, failed: 0 } };
  }
  if (next > batch.expectedFirstTokenId) {
    await abandon(ctx, batch.id, `collection at token ${next}, batch planned for ${batch.expectedFirstTokenId}`);
    return failed;
  }
  if (next === batch.expectedFirstTokenId || predecessor === "sending") return { kind: "send" };
  if (predecessor === "open") return { kind: "wait" };
  if (await noAttemptLeft(ctx, batch)) {
    await abandon(ctx, batch.id, `collection at token ${next}, no batch before ${batch.expectedFirstTokenId}`);
    return failed;
  }
  await fillNonces(ctx, batch.nonce!);
  return { kind: "wait" };
}

/**
 * Uses up the minter's unmined nonces up to `nonce` when nothing of the minter's waits in the node's pool (a
 * dropped transaction left them unused): an empty transaction takes each, so an attempt broadcast with one of
 * them can never be mined. A nonce still held by a waiting transaction is refused by the node and used by it.
 */
async function fillNonces(ctx: MintContext, nonce: number) {
  const { latest, pending } = await ctx.chain.transactionCounts("minter");
  if (pending > latest) return; // the minter's waiting transactions will use them
  for (let n = latest; n <= nonce; n++) await ctx.chain.useNonce("minter", n).catch(() => undefined);
}
