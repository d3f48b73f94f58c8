import { type ItemOutcome, createBatcher } from "../../batching.js";
import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { consumeOrRateLimited, memoryLimiters } from "../../security/rate-limits.js";
import { type OrderMachine, type OrderRow, editionsOf, findByKey, newOrderNo } from "./orders.js";
import { type Refusal, buyerStatement, reservationStatement } from "./reservation-sql.js";
import type { DropsDependencies } from "./service.js";
import { countPurchases, rowsOf, stock } from "./slots.js";
import { type CollectionRow, type TermsOf, refusalOfTerms } from "./terms.js";

/**
 * Reservations. A reservation is one short transaction:
 * - the per-person count (keyed by identity commitment, not by account or
 *   address) is raised only while it stays within the collection's limit;
 * - editions are claimed from pre-allocated slots with `FOR UPDATE SKIP
 *   LOCKED`, so concurrent buyers take different rows instead of queueing on
 *   one stock counter, and a slot belongs to at most one order;
 * - the order is created with its payment deadline.
 * Any refusal rolls the whole transaction back. The price always comes from the collection.
 * In a rush, the admission gate answers the crowd after the last edition, and admitted attempts of one
 * collection are committed in groups, one statement each (reservation-sql.ts).
 */

export type ReserveInput = { collectionId: number; quantity: number; idempotencyKey: string };
/** An order as a reservation answers it; `repeated`: the key had its order already. */
type Reserved = OrderRow & { editions: number[]; repeated: boolean };
type ReserveAttempt = { db: Db; userId: number; input: ReserveInput };

/**
 * Most admitted reservations of one collection carried by one transaction, and such transactions at once. One
 * at a time: the attempts that arrive meanwhile make the next group larger, and groups do not skip over each
 * other's locked slots (four at once made groups of 25 at 10 ms each; one makes groups of 30 at 4.6 ms).
 */
const RESERVE_BATCH = 200;
const RESERVE_BATCHES_IN_FLIGHT = 1;

/** What reservations work with: the drops dependencies, the terms cache and the order machine. */
export interface ReservationContext {
  deps: DropsDependencies;
  termsOf: TermsOf;
  machine: OrderMachine;
}

function newOrder(
  ctx: ReservationContext,
  collection: CollectionRow,
  now: Date,
  userId: number,
  commitment: string,
  input: ReserveInput,
) {
  return {
    orderNo: newOrderNo(now),
    userId,
    collectionId: collection.id,
    commitment,
    quantity: input.quantity,
    unitPriceFen: collection.priceFen,
    amountFen: input.quantity * collection.priceFen,
    idempotencyKey: input.idempotencyKey,
    expiresAt: new Date(now.getTime() + ctx.deps.paymentWindowMinutes * 60_000),
    createdAt: now,
    updatedAt: now,
  };
}

/** The first order of a key already used, or undefined. */
async function repeatedOrder(db: Db, userId: number, input: ReserveInput): Promise<Reserved | undefined> {
  const order = await findByKey(db, userId, input.collectionId, input.idempotencyKey);
  return order === undefined ? undefined : { ...order, editions: await editionsOf(db, order.id), repeated: true };
}

/** The reservation itself: one transaction whose constraints decide. */
async function reserveAlone(ctx: ReservationContext, db: Db, userId: number, input: ReserveInput): Promise<Reserved> {
  const { deps } = ctx;
  deps.onReservations?.("alone", 1);
  const retried = await repeatedOrder(db, userId, input);
  if (retried !== undefined) return retried;

  const now = deps.clock();
  const collection = await ctx.termsOf(db, input.collectionId);
  const byTerms = refusalOfTerms(collection, now, input.quantity);
  if (byTerms !== null) throw byTerms;
  const [buyer] = rowsOf(
    await db.execute(buyerStatement(userId, deps.clock(), collection.id, deps.buyerCondition)),
  ) as { commitment: string | null; refusal: Refusal | null }[];
  if (buyer!.refusal !== null) throw new AppError(buyer!.refusal);
  const commitment = buyer!.commitment!;

  try {
    const order = await db.transaction(async (tx) => {
      const within = await countPurchases(tx, collection, [{ commitment, quantity: input.quantity }]);
      if (within.size === 0) throw new AppError("drop.limitReached", { limit: collection.perPersonLimit });
      const place = [newOrder(ctx, collection, now, userId, commitment, input)];
      const [created] = await ctx.machine.transition(tx, { place }, "created");
      return created!;
    });
    return { ...order, repeated: false };
  } catch (error) {
    // The same key sent twice at once: the second loses the race (a unique violation on the key, or any
    // refusal its transaction met while the first held the same rows) and answers with the first order.
    const first = await repeatedOrder(db, userId, input).catch(() => undefined);
    if (first !== undefined) return first;
    throw error;
  }
}

type ReservedRow = { position: number; order_id: number | string; commitment: string; editions: (number | string)[] };
type Outcomes = (ItemOutcome<Reserved> | undefined)[];

/**
 * Runs the group statement for the attempts `together` (positions into `attempts`) and reads its answer into
 * `outcomes`; returns the attempts it left undecided, to be tried alone.
 */
async function commitTogether(
  ctx: ReservationContext,
  attempts: readonly ReserveAttempt[],
  together: readonly number[],
  collection: CollectionRow,
  now: Date,
  outcomes: Outcomes,
): Promise<{ committed: boolean; later: number[] }> {
  const later: number[] = [];
  const wanted = together.map((i, position) => {
    const { userId, input } = attempts[i]!;
    return { position, order: newOrder(ctx, collection, now, userId, "", input) };
  });
  try {
    const result = await attempts[0]!.db.execute(
      reservationStatement(collection, now, wanted, ctx.deps.buyerCondition),
    );
    const [summary] = rowsOf(result) as {
      free: number;
      reserved: ReservedRow[] | null;
      refused: { position: number; refusal: Refusal }[] | null;
    }[];
    const reserved = new Map((summary?.reserved ?? []).map((row) => [Number(row.position), row]));
    const refused = new Map((summary?.refused ?? []).map((row) => [Number(row.position), row.refusal]));
    // First come, first served: the attempts that fit in the free slots, in the order they arrived.
    let left = Number(summary?.free ?? 0);
    let decided = 0;
    wanted.forEach(({ position, order }) => {
      const row = reserved.get(position);
      const refusal = refused.get(position);
      if (refusal !== undefined) {
        decided++;
        outcomes[together[position]!] = { ok: false, error: new AppError(refusal) };
      } else if (row !== undefined) {
        decided++;
        left -= order.quantity;
        const placed: OrderRow = {
          ...order,
          commitment: row.commitment,
          id: Number(row.order_id),
          status: "created",
          airdropId: null,
          paidAt: null,
        };
        outcomes[together[position]!] = {
          ok: true,
          value: { ...placed, editions: row.editions.map(Number), repeated: false },
        };
      } else if (order.quantity > left) {
        decided++;
        outcomes[together[position]!] = { ok: false, error: new AppError("drop.soldOut") };
      } else {
        // A smaller order after one that did not fit: it may fit alone.
        later.push(together[position]!);
      }
    });
    ctx.deps.onReservations?.("group", decided);
  } catch {
    // Whatever stopped the batch (its own refusal, a lost connection, a deadlock), nothing of it was
    // kept; each attempt is tried alone, where idempotency keys make a batch that did commit harmless.
    for (const i of together) outcomes[i] = undefined;
    return { committed: false, later: [...together] };
  }
  return { committed: true, later };
}

/**
 * The attempts `admitted` after their one statement refused itself (the gate had forgotten what someone holds,
 * or a retried key): in rounds, the first attempt of each account, then, once that statement has committed,
 * each one's second, and so on, so that a person over the limit costs only their own round. Returns the
 * attempts left to be tried alone.
 */
async function commitInRounds(
  ctx: ReservationContext,
  attempts: readonly ReserveAttempt[],
  admitted: readonly number[],
  collection: CollectionRow,
  now: Date,
  outcomes: Outcomes,
): Promise<number[]> {
  const rounds: number[][] = [];
  const seen = new Map<number, number>();
  for (const i of admitted) {
    const round = seen.get(attempts[i]!.userId) ?? 0;
    seen.set(attempts[i]!.userId, round + 1);
    (rounds[round] ??= []).push(i);
  }
  // One attempt per account already: the statement that refused was this round.
  if (rounds.length === 1) return [...admitted];
  const later: number[] = [];
  for (const round of rounds) {
    // Once a round leaves attempts undecided, the rest go one at a time, in the order they came.
    if (later.length > 0) later.push(...round);
    else later.push(...(await commitTogether(ctx, attempts, round, collection, now, outcomes)).later);
  }
  return later;
}

/**
 * Group commit of admitted reservations of one collection in one SQL statement (so one round trip, and its
 * own transaction). The collection's terms are known already (fixed once published); the statement itself
 * reads each buyer's verification and, in lottery mode, whether they won, refuses those who may not buy,
 * locks free slots, creates the orders, raises the counts, assigns the slots and writes the history. Should
 * any attempt of the batch not go through with the others (a retried key, someone over the limit), the
 * statement refuses itself, which undoes all of it, and the batch goes in rounds (commitInRounds), and what
 * they leave takes the one-at-a-time path, whose answers are exact; the batch only saves round trips.
 */
async function reserveBatch(
  ctx: ReservationContext,
  attempts: readonly ReserveAttempt[],
): Promise<ItemOutcome<Reserved>[]> {
  const outcomes: Outcomes = attempts.map(() => undefined);
  const now = ctx.deps.clock();
  let collection: CollectionRow;
  try {
    collection = await ctx.termsOf(attempts[0]!.db, attempts[0]!.input.collectionId);
  } catch (error) {
    return attempts.map(() => ({ ok: false, error }));
  }

  const admitted: number[] = [];
  attempts.forEach(({ input }, i) => {
    const refusal = refusalOfTerms(collection, now, input.quantity);
    if (refusal === null) admitted.push(i);
    else outcomes[i] = { ok: false, error: refusal };
  });

  // Everyone in one statement, a person's several attempts (a crowd's double clicks) included: the gate lets a
  // person through only within the limit it knows, so this is the statement that commits.
  let later: number[] = [];
  if (admitted.length > 0) {
    const all = await commitTogether(ctx, attempts, admitted, collection, now, outcomes);
    later = all.committed ? all.later : await commitInRounds(ctx, attempts, admitted, collection, now, outcomes);
  }
  for (const i of later.sort((a, b) => a - b)) {
    const { db, userId, input } = attempts[i]!;
    try {
      outcomes[i] = { ok: true, value: await reserveAlone(ctx, db, userId, input) };
    } catch (error) {
      outcomes[i] = { ok: false, error };
    }
  }
  return outcomes.map((outcome) => outcome!);
}

function withoutMarker({ repeated: _repeated, ...order }: Reserved) {
  return order;
}

/** The reservation door: the admission gate, the per-account rate limit, then the group commit or a lone one. */
export function createReservations(ctx: ReservationContext) {
  const { deps } = ctx;
  const attempts = (deps.limiters ?? memoryLimiters)({
    keyPrefix: "reserve",
    points: deps.reserveAttemptsPerMinute,
    duration: 60,
  });

  /** One group-commit queue per collection. */
  const groups = new Map<number, (attempt: ReserveAttempt) => Promise<Reserved>>();
  function reserveGrouped(attempt: ReserveAttempt): Promise<Reserved> {
    let group = groups.get(attempt.input.collectionId);
    if (group === undefined) {
      group = createBatcher((batch: ReserveAttempt[]) => reserveBatch(ctx, batch), {
        maxBatch: RESERVE_BATCH,
        maxInFlight: RESERVE_BATCHES_IN_FLIGHT,
      });
      groups.set(attempt.input.collectionId, group);
    }
    return group(attempt);
  }

  return async function reserve(
    db: Db,
    userId: number,
    input: ReserveInput,
  ): Promise<OrderRow & { editions: number[] }> {
    // The per-account rate limit guards the database, so it counts the attempts that would reach it: those the
    // gate admits, and those that would read unknown terms. The crowd that finds the gate closed is answered
    // without it, at the cost a rate-limit refusal would have had (one Redis call), and told what is true.
    const termsInMemory = ctx.termsOf.remembers(input.collectionId);
    if (!termsInMemory) await consumeOrRateLimited(attempts, String(userId));
    // The gate answers the crowd that comes after the last edition; the database decides everyone else.
    const limit = (await ctx.termsOf(db, input.collectionId)).perPersonLimit;
    // One verified account per identity, so the account stands for the person at the gate.
    const attempt = { key: `${userId}:${input.idempotencyKey}`, holder: String(userId), limit };
    const admission = await deps.gate.admit(
      input.collectionId,
      input.quantity,
      attempt,
      async () => (await stock(db, input.collectionId)).available,
    );
    if (admission === "soldOut") throw new AppError("drop.soldOut");
    if (admission === "limitReached") throw new AppError("drop.limitReached", { limit });
    if (termsInMemory) {
      try {
        await consumeOrRateLimited(attempts, String(userId));
      } catch (error) {
        if (admission === "admitted") await deps.gate.giveBack(input.collectionId, input.quantity, attempt);
        throw error;
      }
    }
    if (admission === "known") return withoutMarker(await reserveAlone(ctx, db, userId, input));
    let reserved;
    try {
      reserved = await reserveGrouped({ db, userId, input });
    } catch (error) {
      // "Sold out" from the database: the counter was too high, so the units are not given back to it.
      if (error instanceof AppError && error.code === "drop.soldOut") {
        await deps.gate.forget(input.collectionId, input.quantity, attempt);
      } else {
        await deps.gate.giveBack(input.collectionId, input.quantity, attempt);
      }
      throw error;
    }
    if (reserved.repeated) {
      // A retry of an order made before the gate knew it: the unit goes back, the attempt stays known.
      await deps.gate.giveBack(input.collectionId, input.quantity, attempt);
      await deps.gate.remember(input.collectionId, input.quantity, attempt);
    }
    return withoutMarker(reserved);
  };
}
