import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Interface } from "ethers";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { mintBatches, mintJobs } from "./tables.js";
import { backoffMs, errorSummary, periodic } from "../../jobs.js";

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

export function createMintWorker(options: MintWorkerOptions) {
  const { db, chain } = options;
  const clock = options.clock ?? (() => new Date());
  /** Gathers pending jobs of one collection with no batch in flight into a planned batch. */
  // A job waits until its recipient's address is bound in the identity registry (the registry outbox
  // sends bindings within a second or so): minting earlier would be refused by the chain and parked.
  const recipientBound = sql`exists (select 1 from registry_bindings rb
    where rb.address = ${mintJobs.recipient} and rb.status = 'confirmed')`;

  async function plan(): Promise<boolean> {
    const [candidate] = await db
      .select({ collectionId: mintJobs.collectionId })
      .from(mintJobs)
      .where(
        and(
          eq(mintJobs.status, "pending"),
          recipientBound,
          sql`not exists (select 1 from mint_batches b where b.collection_id = ${mintJobs.collectionId} and b.status = 'planned')`,
        ),
      )
      .orderBy(asc(mintJobs.id))
      .limit(1);
    if (candidate === undefined) return false;
    const contractAddress = await options.contractOf(db, candidate.collectionId);
    const expected = Number(await chain.collection(contractAddress).nextTokenId());
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
      // Another worker planned this collection's batch first.
      if (violatedUniqueConstraint(error) === "mint_batches_one_planned_per_collection") return false;
      throw error;
    }
  }

  async function jobsOf(batchId: number) {
    return db.select().from(mintJobs).where(eq(mintJobs.batchId, batchId)).orderBy(asc(mintJobs.id));
  }

  let mintedTokens = 0;

  async function confirm(batch: typeof mintBatches.$inferSelect, txHash: string | null, blockNumber: number | null) {
    const jobs = await jobsOf(batch.id);
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
    await db.transaction(async (tx) => {
      // One statement for the whole batch: each job gets its first token id.
      await tx.execute(sql`
        update mint_jobs as m set status = 'minted', first_token_id = v.first_token_id
        from (select unnest(${`{${minted.map((m) => m.jobId).join(",")}}`}::bigint[]) as id,
                     unnest(${`{${minted.map((m) => m.firstTokenId).join(",")}}`}::int[]) as first_token_id) as v
        where m.id = v.id`);
      await options.onMinted(tx, minted, txHash);
      await tx
        .update(mintBatches)
        .set({ status: "confirmed", txHash, blockNumber, lastError: null })
        .where(eq(mintBatches.id, batch.id));
    });
    mintedTokens += batch.tokenCount;
    return jobs.length;
  }

  /** Gives up a batch that cannot land as planned; its jobs (but parked ones) are planned again. */
  async function abandon(batchId: number, reason: string) {
    await db.transaction(async (tx) => {
      await tx
        .update(mintJobs)
        .set({ status: "pending", batchId: null })
        .where(and(eq(mintJobs.batchId, batchId), eq(mintJobs.status, "sent")));
      await tx.update(mintBatches).set({ status: "abandoned", lastError: reason }).where(eq(mintBatches.id, batchId));
    });
  }

  async function park(batchId: number, recipient: string, reason: string) {
    const jobs = await jobsOf(batchId);
    let parked = 0;
    await db.transaction(async (tx) => {
      for (const job of jobs) {
        if (job.recipient.toLowerCase() !== recipient.toLowerCase()) continue;
        await tx
          .update(mintJobs)
          .set({ status: "parked", batchId: null, parkedReason: reason })
          .where(eq(mintJobs.id, job.id));
        await options.onParked(tx, job.orderId, reason);
        parked++;
      }
    });
    await abandon(batchId, reason);
    return parked;
  }

  /** Asks the chain about one planned batch and moves it on. */
  async function settle(batch: typeof mintBatches.$inferSelect): Promise<MintRound> {
    const contract = chain.collection(batch.contractAddress);
    const next = Number(await contract.nextTokenId());
    if (next >= batch.expectedFirstTokenId + batch.tokenCount) {
      const events = await contract.queryFilter(contract.filters.BatchMinted(batch.id));
      const event = events.find((e) => Number((e as { args?: unknown[] }).args?.[1]) === batch.expectedFirstTokenId);
      if (event === undefined) {
        await abandon(batch.id, `collection moved past token ${batch.expectedFirstTokenId} without this batch`);
        return { minted: 0, parked: 0, failed: 1 };
      }
      return { minted: await confirm(batch, event.transactionHash, event.blockNumber), parked: 0, failed: 0 };
    }
    if (next !== batch.expectedFirstTokenId) {
      await abandon(batch.id, `collection at token ${next}, batch planned for ${batch.expectedFirstTokenId}`);
      return { minted: 0, parked: 0, failed: 1 };
    }
    const jobs = await jobsOf(batch.id);
    const recipients = jobs.flatMap((job) => Array<string>(job.quantity).fill(job.recipient));
    try {
      const receipt = await chain.send("minter", ({ collection }, overrides) =>
        collection(batch.contractAddress).mintEach(recipients, batch.expectedFirstTokenId, batch.id, overrides),
      );
      return { minted: await confirm(batch, receipt.hash, receipt.blockNumber), parked: 0, failed: 0 };
    } catch (error) {
      const refused = refusedRecipient(error, contract.interface);
      if (refused !== null) {
        return { minted: 0, parked: await park(batch.id, refused, "recipient not verified on chain"), failed: 0 };
      }
      throw error;
    }
  }

  async function runOnce(): Promise<MintRound> {
    const total: MintRound = { minted: 0, parked: 0, failed: 0 };
    while (await plan()) {
      // Plan every collection that has work before sending anything.
    }
    const due = await db
      .select()
      .from(mintBatches)
      .where(and(eq(mintBatches.status, "planned"), lte(mintBatches.nextAttemptAt, clock())))
      .orderBy(asc(mintBatches.id));
    for (const batch of due) {
      try {
        const round = await settle(batch);
        total.minted += round.minted;
        total.parked += round.parked;
        total.failed += round.failed;
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
    options.onRound?.({ ...total, mintedTokens });
    mintedTokens = 0;
    await options.afterRound?.();
    return total;
  }

  return {
    runOnce,
    /** Queue depth, for metrics and the operator view. */
    async depth(): Promise<{ pending: number; inFlight: number; parked: number }> {
      const rows = await db
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
