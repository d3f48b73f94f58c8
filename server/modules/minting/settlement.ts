import { and, asc, eq, sql } from "drizzle-orm";
import type { Interface } from "ethers";

import { mintBatches, mintJobs } from "./tables.js";
import type { MintContext, MintRound } from "./worker.js";

/** What becomes of a planned batch once the chain has been asked: landed, abandoned, sent, or parked. */

type Batch = typeof mintBatches.$inferSelect;

/** The address in a `CollectionUnverifiedAccount(address)` revert, if that is what `error` is. */
function refusedRecipient(error: unknown, contractInterface: Interface): string | null {
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

/** Records a landed batch: each job's tokens follow from the expected first token id. */
async function confirm(ctx: MintContext, batch: Batch, txHash: string | null, blockNumber: number | null) {
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
  await ctx.db.transaction(async (tx) => {
    // One statement for the whole batch: each job gets its first token id.
    await tx.execute(sql`
      update mint_jobs as m set status = 'minted', first_token_id = v.first_token_id
      from (select unnest(${`{${minted.map((m) => m.jobId).join(",")}}`}::bigint[]) as id,
                   unnest(${`{${minted.map((m) => m.firstTokenId).join(",")}}`}::int[]) as first_token_id) as v
      where m.id = v.id`);
    await ctx.options.onMinted(tx, minted, txHash);
    await tx
      .update(mintBatches)
      .set({ status: "confirmed", txHash, blockNumber, lastError: null })
      .where(eq(mintBatches.id, batch.id));
  });
  ctx.mintedTokens += batch.tokenCount;
  return jobs.length;
}

/** Gives up a batch that cannot land as planned; its jobs (but parked ones) are planned again. */
async function abandon(ctx: MintContext, batchId: number, reason: string) {
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(mintJobs)
      .set({ status: "pending", batchId: null })
      .where(and(eq(mintJobs.batchId, batchId), eq(mintJobs.status, "sent")));
    await tx.update(mintBatches).set({ status: "abandoned", lastError: reason }).where(eq(mintBatches.id, batchId));
  });
}

/** Parks the batch's jobs for a recipient the chain refused, then abandons the batch. */
async function park(ctx: MintContext, batchId: number, recipient: string, reason: string) {
  const jobs = await jobsOf(ctx, batchId);
  let parked = 0;
  await ctx.db.transaction(async (tx) => {
    for (const job of jobs) {
      if (job.recipient.toLowerCase() !== recipient.toLowerCase()) continue;
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

/** Asks the chain about one planned batch and moves it on. */
export async function settle(ctx: MintContext, batch: Batch): Promise<MintRound> {
  const contract = ctx.chain.collection(batch.contractAddress);
  const next = Number(await contract.nextTokenId());
  if (next >= batch.expectedFirstTokenId + batch.tokenCount) {
    const events = await contract.queryFilter(contract.filters.BatchMinted(batch.id));
    const event = events.find((e) => Number((e as { args?: unknown[] }).args?.[1]) === batch.expectedFirstTokenId);
    if (event === undefined) {
      await abandon(ctx, batch.id, `collection moved past token ${batch.expectedFirstTokenId} without this batch`);
      return { minted: 0, parked: 0, failed: 1 };
    }
    return { minted: await confirm(ctx, batch, event.transactionHash, event.blockNumber), parked: 0, failed: 0 };
  }
  if (next !== batch.expectedFirstTokenId) {
    await abandon(ctx, batch.id, `collection at token ${next}, batch planned for ${batch.expectedFirstTokenId}`);
    return { minted: 0, parked: 0, failed: 1 };
  }
  const jobs = await jobsOf(ctx, batch.id);
  const recipients = jobs.flatMap((job) => Array<string>(job.quantity).fill(job.recipient));
  try {
    const receipt = await ctx.chain.send("minter", ({ collection }, overrides) =>
      collection(batch.contractAddress).mintEach(recipients, batch.expectedFirstTokenId, batch.id, overrides),
    );
    return { minted: await confirm(ctx, batch, receipt.hash, receipt.blockNumber), parked: 0, failed: 0 };
  } catch (error) {
    const refused = refusedRecipient(error, contract.interface);
    if (refused !== null) {
      return { minted: 0, parked: await park(ctx, batch.id, refused, "recipient not verified on chain"), failed: 0 };
    }
    throw error;
  }
}
