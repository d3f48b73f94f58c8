import type { TransactionReceipt } from "ethers";
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";

import { backoffMs, errorSummary } from "../../jobs.js";
import { type Batch, confirm, noAttemptLeft, park, reconcile, refusedRecipient } from "./settlement.js";
import { mintBatches, mintJobs } from "./tables.js";
import type { MintContext, MintRound } from "./worker.js";

/**
 * One round's chain work: the due batches are claimed, each collection's batches checked against the chain
 * in token order, then every batch to send is broadcast with the next nonce (recorded on the batch first)
 * and the receipts are awaited together.
 */

/** How long a worker holds the batches it claimed (another instance leaves them alone meanwhile). */
const LEASE_MS = 60_000;

const zero = (): MintRound => ({ minted: 0, parked: 0, failed: 0 });
const add = (total: MintRound, round: MintRound) => {
  total.minted += round.minted;
  total.parked += round.parked;
  total.failed += round.failed;
};

/** Claims the planned batches that are due, in one statement (a batch another worker claimed first is skipped). */
async function claimDue(ctx: MintContext): Promise<Batch[]> {
  const now = ctx.clock();
  const claimed = await ctx.db
    .update(mintBatches)
    .set({ nextAttemptAt: new Date(now.getTime() + LEASE_MS) })
    .where(and(eq(mintBatches.status, "planned"), lte(mintBatches.nextAttemptAt, now)))
    .returning();
  return claimed.sort((a, b) => a.collectionId - b.collectionId || a.expectedFirstTokenId - b.expectedFirstTokenId);
}

/** Hands claimed batches back for the next round. */
async function release(ctx: MintContext, batches: Batch[]) {
  if (batches.length === 0) return;
  await ctx.db
    .update(mintBatches)
    .set({ nextAttemptAt: ctx.clock() })
    .where(
      inArray(
        mintBatches.id,
        batches.map((b) => b.id),
      ),
    );
}

/** A try that failed: the batch is tried again after a backoff (the next try asks the chain first). */
async function failed(ctx: MintContext, batch: Batch, error: unknown): Promise<MintRound> {
  ctx.options.onError?.(error);
  const attempts = batch.attempts + 1;
  await ctx.db
    .update(mintBatches)
    .set({
      attempts,
      nextAttemptAt: new Date(ctx.clock().getTime() + backoffMs(attempts)),
      lastError: errorSummary(error),
    })
    .where(and(eq(mintBatches.id, batch.id), eq(mintBatches.status, "planned")));
  return { minted: 0, parked: 0, failed: 1 };
}

/** The batches of one collection checked in token order against where the chain says it is. */
async function reconcileCollection(ctx: MintContext, batches: Batch[], total: MintRound): Promise<Batch[]> {
  const first = batches[0]!;
  const [earlier] = await ctx.db
    .select({ n: sql<number>`count(*)::int` })
    .from(mintBatches)
    .where(
      and(
        eq(mintBatches.collectionId, first.collectionId),
        eq(mintBatches.status, "planned"),
        sql`${mintBatches.expectedFirstTokenId} < ${first.expectedFirstTokenId}`,
      ),
    );
  let predecessor: "sending" | "open" | "none" = (earlier?.n ?? 0) > 0 ? "open" : "none";
  const toSend: Batch[] = [];
  const waiting: Batch[] = [];
  let index = 0;
  try {
    const next = Number(await ctx.chain.collection(first.contractAddress).nextTokenId());
    for (; index < batches.length; index++) {
      const batch = batches[index]!;
      const verdict = await reconcile(ctx, batch, next, predecessor);
      if (verdict.kind === "done") add(total, verdict.round);
      if (verdict.kind === "send") toSend.push(batch);
      if (verdict.kind === "wait") waiting.push(batch);
      predecessor = verdict.kind === "done" ? "none" : verdict.kind === "send" ? "sending" : "open";
    }
  } catch (error) {
    // The chain could not be asked: this batch and the rest of the collection's try again after a backoff.
    for (const batch of batches.slice(index)) add(total, await failed(ctx, batch, error));
  }
  await release(ctx, waiting);
  return toSend;
}

type Broadcast = "used" | "unused" | "unknown";

/** Whether a send that failed before the node took it left its nonce unused (refused when gas was estimated). */
function broadcastOutcome(error: unknown): Broadcast {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === "CALL_EXCEPTION") return "unused";
  if (code === "REPLACEMENT_UNDERPRICED" || code === "NONCE_EXPIRED") return "used";
  return "unknown";
}

interface InFlight {
  batch: Batch;
  receipt: Promise<TransactionReceipt>;
}

/**
 * Gas of a batch sent behind another of its collection in the same round: the chain cannot estimate it (it
 * would run against a collection not yet at its first token id), so it is the first one's gas per token
 * with this margin. A transaction's gas limit counts against the block's, so the margin stays small.
 */
const GAS_MARGIN = 1.25;

/**
 * Broadcasts one batch with `nonce`, recorded on the batch before; resolves once the node has taken it (or
 * not). Gas is estimated when `gasPerToken` is null (the batch is at the collection's next token id: a
 * refused recipient is found here, before anything is sent), and the estimate per token is handed back.
 */
async function broadcast(
  ctx: MintContext,
  batch: Batch,
  recipients: string[],
  nonce: number,
  gasPerToken: number | null,
) {
  const recorded = batch.nonce === null ? nonce : Math.max(batch.nonce, nonce);
  await ctx.db.update(mintBatches).set({ nonce: recorded }).where(eq(mintBatches.id, batch.id));
  let taken = () => undefined as void;
  const broadcastDone = new Promise<void>((resolve) => (taken = resolve));
  let estimated = gasPerToken;
  const receipt = ctx.chain.send(
    "minter",
    async ({ collection }, overrides) => {
      const args = [recipients, batch.expectedFirstTokenId, batch.id] as const;
      let gasLimit: bigint;
      if (gasPerToken === null) {
        gasLimit = await collection(batch.contractAddress).mintEach.estimateGas(...args, overrides);
        estimated = Number(gasLimit) / recipients.length;
      } else {
        gasLimit = BigInt(Math.ceil(gasPerToken * recipients.length * GAS_MARGIN));
      }
      return collection(batch.contractAddress).mintEach(...args, { ...overrides, gasLimit });
    },
    { nonce, onBroadcast: () => taken() },
  );
  const outcome: Broadcast = await Promise.race([
    broadcastDone.then(() => "used" as const),
    receipt.then(
      () => "used" as const,
      (error: unknown) => broadcastOutcome(error),
    ),
  ]);
  if (outcome === "unused") {
    // Never broadcast: the batch's nonce is what it was.
    await ctx.db.update(mintBatches).set({ nonce: batch.nonce }).where(eq(mintBatches.id, batch.id));
    return { outcome, gasPerToken: estimated, inFlight: { batch, receipt } };
  }
  return { outcome, gasPerToken: estimated, inFlight: { batch: { ...batch, nonce: recorded }, receipt } };
}

/** Awaits one batch's receipt: landed → recorded; a recipient refused → parked; else tried again later. */
async function settleReceipt(ctx: MintContext, { batch, receipt }: InFlight): Promise<MintRound> {
  try {
    const mined = await receipt;
    return { minted: await confirm(ctx, batch, mined.hash, mined.blockNumber), parked: 0, failed: 0 };
  } catch (error) {
    const refused = refusedRecipient(error, ctx.chain.collection(batch.contractAddress).interface);
    if (refused !== null && (await noAttemptLeft(ctx, batch).catch(() => false))) {
      return { minted: 0, parked: await park(ctx, batch.id, refused, "recipient not verified on chain"), failed: 0 };
    }
    return failed(ctx, batch, error);
  }
}

/**
 * The batches behind the first of their collection: nonces `nonce`, `nonce + 1`, ... recorded in one
 * statement, then all handed to the node at once (their gas is known, nothing is estimated, so none is
 * refused before broadcasting and the nonces stay consecutive).
 */
function broadcastFollowers(
  ctx: MintContext,
  followers: { batch: Batch; recipients: string[]; gasPerToken: number }[],
  nonce: number,
): Promise<InFlight[]> {
  const ids = followers.map((f) => f.batch.id);
  const nonces = followers.map((_, i) => nonce + i);
  return ctx.db
    .execute(
      sql`update mint_batches as b set nonce = greatest(coalesce(b.nonce, -1), v.nonce)
      from (select unnest(${`{${ids.join(",")}}`}::bigint[]) as id, unnest(${`{${nonces.join(",")}}`}::int[]) as nonce) as v
      where b.id = v.id`,
    )
    .then(() =>
      followers.map(({ batch, recipients, gasPerToken }, i) => {
        const gasLimit = BigInt(Math.ceil(gasPerToken * recipients.length * GAS_MARGIN));
        const receipt = ctx.chain.send(
          "minter",
          ({ collection }, overrides) =>
            collection(batch.contractAddress).mintEach(recipients, batch.expectedFirstTokenId, batch.id, {
              ...overrides,
              gasLimit,
            }),
          { nonce: nonces[i]! },
        );
        return { batch: { ...batch, nonce: Math.max(batch.nonce ?? -1, nonces[i]!) }, receipt };
      }),
    );
}

/**
 * Broadcasts `batches` with consecutive nonces, then awaits all their receipts together. The first batch of
 * each collection goes first, one at a time: its gas is estimated, which finds a refused recipient before
 * anything is sent. The ones behind it follow with its gas per token, all at once.
 */
async function sendAll(ctx: MintContext, batches: Batch[], total: MintRound) {
  if (batches.length === 0) return;
  const jobs = await ctx.db
    .select({ batchId: mintJobs.batchId, recipient: mintJobs.recipient, quantity: mintJobs.quantity })
    .from(mintJobs)
    .where(
      inArray(
        mintJobs.batchId,
        batches.map((b) => b.id),
      ),
    )
    .orderBy(asc(mintJobs.id));
  const recipientsOf = (batch: Batch) =>
    jobs.filter((job) => job.batchId === batch.id).flatMap((job) => Array<string>(job.quantity).fill(job.recipient));
  let nonce: number;
  try {
    nonce = (await ctx.chain.transactionCounts("minter")).pending;
  } catch (error) {
    for (const batch of batches) add(total, await failed(ctx, batch, error));
    return;
  }
  const inFlight: InFlight[] = [];
  // Per collection: the gas per token of its first batch, once the node has taken it.
  const gasPerToken = new Map<number, number>();
  const firsts = batches.filter((b, i) => batches.findIndex((o) => o.collectionId === b.collectionId) === i);
  let stopped = false;
  for (const batch of firsts) {
    const sent = await broadcast(ctx, batch, recipientsOf(batch), nonce, null);
    inFlight.push(sent.inFlight);
    if (sent.outcome === "used") {
      nonce++;
      if (sent.gasPerToken !== null) gasPerToken.set(batch.collectionId, sent.gasPerToken);
    }
    // The node may or may not have it: the next round asks the chain before sending the rest.
    stopped = sent.outcome === "unknown";
    if (stopped) break;
  }
  const followers = batches.filter((b) => !firsts.includes(b));
  const sendable = stopped ? [] : followers.filter((b) => gasPerToken.has(b.collectionId));
  await release(
    ctx,
    [...firsts.filter((b) => !inFlight.some((f) => f.batch.id === b.id)), ...followers].filter(
      (b) => !sendable.includes(b),
    ),
  );
  if (sendable.length > 0) {
    const entries = sendable.map((batch) => ({
      batch,
      recipients: recipientsOf(batch),
      gasPerToken: gasPerToken.get(batch.collectionId)!,
    }));
    inFlight.push(...(await broadcastFollowers(ctx, entries, nonce)));
  }
  for (const round of await Promise.all(inFlight.map((flight) => settleReceipt(ctx, flight)))) add(total, round);
}

/** Moves every due batch on: reconciled with the chain, the ones to send sent together. */
export async function moveBatches(ctx: MintContext): Promise<MintRound> {
  const total = zero();
  const due = await claimDue(ctx);
  const byCollection = new Map<number, Batch[]>();
  for (const batch of due)
    byCollection.set(batch.collectionId, [...(byCollection.get(batch.collectionId) ?? []), batch]);
  const toSend: Batch[] = [];
  for (const batches of byCollection.values()) toSend.push(...(await reconcileCollection(ctx, batches, total)));
  await sendAll(ctx, toSend, total);
  return total;
}
