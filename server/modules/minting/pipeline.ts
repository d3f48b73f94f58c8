import type { TransactionReceipt } from "ethers";
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";

import { backoffMs, errorSummary } from "../../jobs.js";
import { type Batch, confirm, noAttemptLeft, park, reconcile, refusedRecipient } from "./settlement.js";
import { mintBatches, mintJobs } from "./tables.js";
import type { MintContext, MintRound } from "./worker.js";

/**
 * A round's chain work: the due batches are claimed, each collection's batches checked against the chain in
 * token order, then every batch to send is broadcast with the next nonce (recorded on the batch first). The
 * worker does this once at the start of a round and again after planning each batch, so a batch leaves as
 * soon as it is planned; the receipts are settled as they come and awaited together at the end of the round.
 * A batch planned this round behind one the round is sending has never been broadcast, so it cannot have
 * landed: it is sent without asking the chain (should the chain be elsewhere, the contract refuses it and
 * the next round asks).
 */

/** How long a worker holds the batches it claimed (another instance leaves them alone meanwhile). */
const LEASE_MS = 60_000;

export const zero = (): MintRound => ({ minted: 0, parked: 0, failed: 0 });
export const add = (total: MintRound, round: MintRound) => {
  total.minted += round.minted;
  total.parked += round.parked;
  total.failed += round.failed;
};

/** What a round knows of the batches it has broadcast so far (its sends follow one another in one round). */
export interface RoundSends {
  /** Batches broadcast this round whose receipt has not failed. */
  sent: Set<number>;
  /** The nonce after the ones this round used: the node may not have them all yet (broadcasts are queued). */
  nextNonce: number;
  /** A broadcast's fate was unknown: nothing more is sent this round (the next one asks the chain first). */
  stopped: boolean;
  /** The receipts being settled, each as it comes. */
  settling: Promise<MintRound | { error: unknown }>[];
}

export function roundSends(): RoundSends {
  return { sent: new Set(), nextNonce: 0, stopped: false, settling: [] };
}

/** Awaits every receipt of the round; an error recording one is thrown once all are settled. */
export async function settled(sends: RoundSends): Promise<MintRound> {
  const total = zero();
  const rounds = await Promise.all(sends.settling);
  for (const round of rounds) {
    if ("error" in round) throw round.error;
    add(total, round);
  }
  return total;
}

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

/** A batch to broadcast; `atNext` when the chain's collection is at its first token id (nothing ahead of it). */
interface ToSend {
  batch: Batch;
  atNext: boolean;
}

/** The batches of one collection checked in token order against where the chain says it is. */
async function reconcileCollection(
  ctx: MintContext,
  batches: Batch[],
  total: MintRound,
  sends: RoundSends,
): Promise<ToSend[]> {
  const first = batches[0]!;
  const earlier = await ctx.db
    .select({ id: mintBatches.id })
    .from(mintBatches)
    .where(
      and(
        eq(mintBatches.collectionId, first.collectionId),
        eq(mintBatches.status, "planned"),
        sql`${mintBatches.expectedFirstTokenId} < ${first.expectedFirstTokenId}`,
      ),
    );
  // The batches before these were all broadcast earlier in this round: they are being sent.
  let predecessor: "sending" | "open" | "none" =
    earlier.length === 0 ? "none" : earlier.every((b) => sends.sent.has(b.id)) ? "sending" : "open";
  // Planned behind batches being sent and never broadcast: nothing to ask the chain, they follow.
  if (predecessor === "sending" && batches.every((b) => b.nonce === null))
    return batches.map((batch) => ({ batch, atNext: false }));
  const toSend: ToSend[] = [];
  const waiting: Batch[] = [];
  let index = 0;
  try {
    const next = Number(await ctx.chain.collection(first.contractAddress).nextTokenId());
    for (; index < batches.length; index++) {
      const batch = batches[index]!;
      const verdict = await reconcile(ctx, batch, next, predecessor);
      if (verdict.kind === "done") add(total, verdict.round);
      if (verdict.kind === "send") toSend.push({ batch, atNext: next === batch.expectedFirstTokenId });
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
 * Gas of a batch sent behind another of its collection (the chain cannot estimate it: it would run against
 * a collection not yet at its first token id): the worker's last estimate's gas per token, with this margin. A transaction's gas limit
 * counts against the block's, so the margin stays small (the planner sizes batches so that blocks hold
 * whole ones, margin included).
 */
export const GAS_MARGIN = 1.25;

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

/** Settles a receipt as it comes; a batch whose receipt failed no longer counts as being sent. */
function settleLater(ctx: MintContext, sends: RoundSends, flight: InFlight) {
  sends.settling.push(
    settleReceipt(ctx, flight).then(
      (round) => {
        if (round.failed > 0) sends.sent.delete(flight.batch.id);
        return round;
      },
      (error: unknown) => {
        sends.sent.delete(flight.batch.id);
        return { error };
      },
    ),
  );
}

/**
 * Broadcasts `toSend` with consecutive nonces after the ones the round used; their receipts are settled as
 * they come. A batch at its collection's next token id is estimated first, one at a time: the estimate finds
 * a refused recipient before anything is sent, and gives the gas per token (every collection is the same
 * contract). Every batch behind one follows with that gas per token, all at once.
 */
async function sendAll(ctx: MintContext, toSend: ToSend[], total: MintRound, sends: RoundSends) {
  if (toSend.length === 0) return;
  const batches = toSend.map((entry) => entry.batch);
  if (sends.stopped) return release(ctx, batches);
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
    nonce = Math.max((await ctx.chain.transactionCounts("minter")).pending, sends.nextNonce);
  } catch (error) {
    for (const batch of batches) add(total, await failed(ctx, batch, error));
    return;
  }
  // Collections whose batch ahead was not broadcast: the ones behind it wait for the next round.
  const blocked = new Set<number>();
  const broadcasted: Batch[] = [];
  const followers: Batch[] = [];
  for (const { batch, atNext } of toSend) {
    if (sends.stopped || blocked.has(batch.collectionId)) continue;
    if (!atNext) {
      // No gas per token to size it by yet (its collection's first batch was not estimated): next round.
      if (ctx.gas.perToken === null) blocked.add(batch.collectionId);
      else followers.push(batch);
      continue;
    }
    const sent = await broadcast(ctx, batch, recipientsOf(batch), nonce, null);
    settleLater(ctx, sends, sent.inFlight);
    broadcasted.push(batch);
    if (sent.outcome === "used") {
      nonce++;
      sends.sent.add(batch.id);
      if (sent.gasPerToken !== null) ctx.gas.perToken = sent.gasPerToken;
    } else blocked.add(batch.collectionId);
    // The node may or may not have it: the next round asks the chain before sending the rest.
    sends.stopped = sent.outcome === "unknown";
  }
  const gasPerToken = ctx.gas.perToken;
  const sendable = sends.stopped || gasPerToken === null ? [] : followers.filter((b) => !blocked.has(b.collectionId));
  await release(
    ctx,
    batches.filter((b) => !broadcasted.includes(b) && !sendable.includes(b)),
  );
  if (sendable.length > 0) {
    const entries = sendable.map((batch) => ({ batch, recipients: recipientsOf(batch), gasPerToken: gasPerToken! }));
    for (const flight of await broadcastFollowers(ctx, entries, nonce)) {
      sends.sent.add(flight.batch.id);
      settleLater(ctx, sends, flight);
    }
    nonce += sendable.length;
  }
  sends.nextNonce = nonce;
}

/**
 * Moves every due batch on: reconciled with the chain, the ones to send broadcast together behind the ones
 * `sends` already holds (their receipts join the round's).
 */
export async function moveBatches(ctx: MintContext, sends: RoundSends): Promise<MintRound> {
  const total = zero();
  // A batch broadcast earlier in this round is left to its receipt (even if its lease ran out meanwhile).
  const due = (await claimDue(ctx)).filter((batch) => !sends.sent.has(batch.id));
  const byCollection = new Map<number, Batch[]>();
  for (const batch of due)
    byCollection.set(batch.collectionId, [...(byCollection.get(batch.collectionId) ?? []), batch]);
  // Collections are independent of one another: they are checked at once (in token order within each).
  const checked = await Promise.all(
    [...byCollection.values()].map((batches) => reconcileCollection(ctx, batches, total, sends)),
  );
  const toSend = checked.flat();
  await sendAll(ctx, toSend, total, sends);
  return total;
}
