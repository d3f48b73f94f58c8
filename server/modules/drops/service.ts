import { randomBytes } from "node:crypto";

import { type SQL, and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

import { type ItemOutcome, createBatcher } from "../../batching.js";
import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { editionSlots, orderEvents, orders, purchaseCounts } from "./tables.js";
import { AppError } from "../../errors.js";
import type { CatalogService } from "../catalog/service.js";
import type { KycService } from "../kyc/service.js";
import type { AdmissionGate } from "./gate.js";

/**
 * Flash-sale drops and orders. A reservation is one short transaction:
 * - the per-person count (keyed by identity commitment, not by account or
 *   address) is raised only while it stays within the collection's limit;
 * - editions are claimed from pre-allocated slots with `FOR UPDATE SKIP
 *   LOCKED`, so concurrent buyers take different rows instead of queueing on
 *   one stock counter, and a slot belongs to at most one order;
 * - the order is created with its payment deadline.
 * Any refusal rolls the whole transaction back. Unpaid orders expire and give
 * their editions and count back. The price always comes from the collection.
 */

export interface DropsDependencies {
  catalog: CatalogService;
  kyc: KycService;
  clock: () => Date;
  paymentWindowMinutes: number;
  /** Reservation attempts one account may make per minute (retries of the same key included). */
  reserveAttemptsPerMinute: number;
  /** The flash-sale admission gate (Redis when REDIS_URL is set, in memory otherwise). */
  gate: AdmissionGate;
  /**
   * Told how many reservation attempts the database decided in a group statement, or one at a time
   * (retries, a group that refused itself, someone's second attempt in the same group).
   */
  onReservations?: (path: "group" | "alone", attempts: number) => void;
  /** Whether the identity `commitment` (an SQL expression) may buy in a drop: everybody, or a lottery's winners. */
  buyerCondition: (collectionId: number, commitment: SQL) => SQL;
  /** The KYC service's rule for a `kyc_identities` row that verifies its account now, as SQL. */
  verifiedCondition: () => SQL;
}

export type OrderRow = typeof orders.$inferSelect;

type ReserveInput = { collectionId: number; quantity: number; idempotencyKey: string };
/** An order as a reservation answers it; `repeated`: the key had its order already. */
type Reserved = OrderRow & { editions: number[]; repeated: boolean };
type ReserveAttempt = { db: Db; userId: number; input: ReserveInput };

/** Most admitted reservations of one collection carried by one transaction, and such transactions at once. */
const RESERVE_BATCH = 200;
const RESERVE_BATCHES_IN_FLIGHT = 4;

export interface Stock {
  editionSize: number;
  available: number;
  reserved: number;
  sold: number;
}

/** `SZ` + the China date + 12 random hex digits. */
export function newOrderNo(now: Date): string {
  const shifted = new Date(now.getTime() + 8 * 3600_000);
  const date = shifted.toISOString().slice(0, 10).replaceAll("-", "");
  return `SZ${date}${randomBytes(6).toString("hex").toUpperCase()}`;
}

export function createDropsService(deps: DropsDependencies) {
  const attempts = new RateLimiterMemory({ keyPrefix: "reserve", points: deps.reserveAttemptsPerMinute, duration: 60 });

  async function history(db: Db, orderId: number, from: string | null, to: string, reason = "") {
    await db.insert(orderEvents).values({ orderId, fromStatus: from, toStatus: to, reason, at: deps.clock() });
  }

  async function findByKey(db: Db, userId: number, idempotencyKey: string) {
    const [row] = await db
      .select()
      .from(orders)
      .where(and(eq(orders.userId, userId), eq(orders.idempotencyKey, idempotencyKey)));
    return row;
  }

  async function editionsOf(db: Db, orderId: number): Promise<number[]> {
    const rows = await db
      .select({ editionNo: editionSlots.editionNo })
      .from(editionSlots)
      .where(eq(editionSlots.orderId, orderId))
      .orderBy(asc(editionSlots.editionNo));
    return rows.map((r) => r.editionNo);
  }

  /** Gives an unpaid order's editions and count back; the caller holds the order row. */
  async function release(tx: Db, order: OrderRow, to: "expired", reason: string) {
    await tx
      .update(editionSlots)
      .set({ status: "available", orderId: null })
      .where(and(eq(editionSlots.orderId, order.id), eq(editionSlots.status, "reserved")));
    await tx
      .update(purchaseCounts)
      .set({ count: sql`${purchaseCounts.count} - ${order.quantity}` })
      .where(and(eq(purchaseCounts.collectionId, order.collectionId), eq(purchaseCounts.commitment, order.commitment)));
    await tx.update(orders).set({ status: to, updatedAt: deps.clock() }).where(eq(orders.id, order.id));
    await history(tx, order.id, order.status, to, reason);
    // The gate counts again from the database, editions returned included.
    await deps.gate.reset(order.collectionId);
  }

  async function stock(db: Db, collectionId: number): Promise<Stock> {
    const rows = await db
      .select({ status: editionSlots.status, n: sql<number>`count(*)::int` })
      .from(editionSlots)
      .where(eq(editionSlots.collectionId, collectionId))
      .groupBy(editionSlots.status);
    const of = (status: string) => rows.find((r) => r.status === status)?.n ?? 0;
    const counts = { available: of("available"), reserved: of("reserved"), sold: of("sold") };
    return { editionSize: counts.available + counts.reserved + counts.sold, ...counts };
  }

  function withoutMarker({ repeated: _repeated, ...order }: Reserved) {
    return order;
  }

  type CollectionRow = Awaited<ReturnType<CatalogService["getPublished"]>>["collection"];

  /** Why `quantity` editions may not be reserved now under the collection's terms, or null when they may. */
  function refusalOfTerms(collection: CollectionRow, now: Date, quantity: number): AppError | null {
    if (now < collection.saleStartsAt) {
      return new AppError("drop.notStarted", { startsAt: collection.saleStartsAt.toISOString() });
    }
    if (now >= collection.saleEndsAt) return new AppError("drop.ended");
    if (quantity > collection.perPersonLimit)
      return new AppError("drop.limitReached", { limit: collection.perPersonLimit });
    return null;
  }

  /**
   * Why the buyer of a row joined to its verified `kyc_identities` row (the KYC service's rule) may not buy in
   * the drop, as SQL: 'kyc.notVerified', 'lottery.notWinner' (the lottery's rule), or null when they may.
   * The one judgement of lone reservations and group statements alike.
   */
  function buyerRefusal(collectionId: number): SQL {
    return sql`case when kyc_identities.commitment is null then 'kyc.notVerified'
                    when not ${deps.buyerCondition(collectionId, sql`kyc_identities.commitment`)}
                      then 'lottery.notWinner'
               end`;
  }

  /** Raises each identity's count by its quantity within the limit; returns the identities that stayed within it. */
  async function countPurchases(
    tx: Db,
    collection: CollectionRow,
    wanted: readonly { commitment: string; quantity: number }[],
  ): Promise<Set<string>> {
    // Sorted, so concurrent batches lock the count rows in one order and cannot deadlock each other.
    const sorted = [...wanted].sort((a, b) => (a.commitment < b.commitment ? -1 : a.commitment > b.commitment ? 1 : 0));
    const counted = await tx.execute(sql`
      insert into purchase_counts (collection_id, commitment, count)
      values ${sql.join(
        sorted.map((w) => sql`(${collection.id}, ${w.commitment}, ${w.quantity}::int)`),
        sql`, `,
      )}
      on conflict (collection_id, commitment) do update
        set count = purchase_counts.count + excluded.count
        where purchase_counts.count + excluded.count <= ${collection.perPersonLimit}
      returning commitment`);
    return new Set(rowsOf(counted).map((row) => (row as { commitment: string }).commitment));
  }

  /**
   * Locks up to `count` available slots, lowest edition numbers first, skipping those other transactions
   * hold. The limit stands outside the locking subquery so that rows are locked as they are pulled: a slot
   * another buyer took since this statement's snapshot is skipped and the next one pulled. (With the limit
   * inside, rows are counted before locking, and one taken meanwhile makes the answer short: "sold out"
   * while editions are left.)
   */
  async function lockFreeSlots(tx: Db, collectionId: number, count: number): Promise<number[]> {
    const locked = await tx.execute(sql`
      select edition_no from (
        select edition_no from edition_slots
        where collection_id = ${collectionId} and status = 'available'
        order by edition_no
        for update skip locked) as free
      limit ${count}`);
    return rowsOf(locked).map((row) => Number((row as { edition_no: number }).edition_no));
  }

  /** Reserves locked slots for their orders. */
  async function assignSlots(
    tx: Db,
    collectionId: number,
    assignments: readonly { orderId: number; editions: number[] }[],
  ) {
    const pairs = assignments.flatMap(({ orderId, editions }) => editions.map((editionNo) => ({ orderId, editionNo })));
    await tx.execute(sql`
      update edition_slots set status = 'reserved', order_id = assigned.order_id
      from (values ${sql.join(
        pairs.map(({ orderId, editionNo }) => sql`(${editionNo}::int, ${orderId}::bigint)`),
        sql`, `,
      )}) as assigned (edition_no, order_id)
      where edition_slots.collection_id = ${collectionId} and edition_slots.edition_no = assigned.edition_no`);
  }

  /** The reservation itself: one transaction whose constraints decide. */
  async function reserveInDb(db: Db, userId: number, input: ReserveInput): Promise<Reserved> {
    deps.onReservations?.("alone", 1);
    const retried = await findByKey(db, userId, input.idempotencyKey);
    if (retried !== undefined) return { ...retried, editions: await editionsOf(db, retried.id), repeated: true };

    const now = deps.clock();
    const collection = await termsOf(db, input.collectionId);
    const byTerms = refusalOfTerms(collection, now, input.quantity);
    if (byTerms !== null) throw byTerms;
    const [buyer] = rowsOf(
      await db.execute(sql`
        select kyc_identities.commitment, ${buyerRefusal(collection.id)} as refusal
        from (select ${userId}::bigint as user_id) as buyer
        left join kyc_identities on kyc_identities.user_id = buyer.user_id and ${deps.verifiedCondition()}`),
    ) as { commitment: string | null; refusal: "kyc.notVerified" | "lottery.notWinner" | null }[];
    if (buyer!.refusal !== null) throw new AppError(buyer!.refusal);
    const commitment = buyer!.commitment!;

    try {
      const order = await db.transaction(async (tx) => {
        const within = await countPurchases(tx, collection, [{ commitment, quantity: input.quantity }]);
        if (within.size === 0) throw new AppError("drop.limitReached", { limit: collection.perPersonLimit });
        const [created] = await tx
          .insert(orders)
          .values(newOrder(collection, now, userId, commitment, input))
          .returning();
        const editions = await lockFreeSlots(tx, collection.id, input.quantity);
        if (editions.length < input.quantity) throw new AppError("drop.soldOut");
        await assignSlots(tx, collection.id, [{ orderId: created!.id, editions }]);
        await history(tx, created!.id, null, "created");
        return { ...created!, editions };
      });
      return { ...order, repeated: false };
    } catch (error) {
      // The same key sent twice at once: the second insert loses the race and answers with the first order.
      if (violatedUniqueConstraint(error) === "orders_idempotency_key") {
        const first = await findByKey(db, userId, input.idempotencyKey);
        if (first !== undefined) return { ...first, editions: await editionsOf(db, first.id), repeated: true };
      }
      throw error;
    }
  }

  function newOrder(collection: CollectionRow, now: Date, userId: number, commitment: string, input: ReserveInput) {
    return {
      orderNo: newOrderNo(now),
      userId,
      collectionId: collection.id,
      commitment,
      quantity: input.quantity,
      unitPriceFen: collection.priceFen,
      amountFen: input.quantity * collection.priceFen,
      idempotencyKey: input.idempotencyKey,
      expiresAt: new Date(now.getTime() + deps.paymentWindowMinutes * 60_000),
      createdAt: now,
      updatedAt: now,
    };
  }

  /**
   * Group commit of admitted reservations of one collection in one SQL statement (so one round trip, and its
   * own transaction). The collection's terms are known already (fixed once published); the statement itself
   * reads each buyer's verification and, in lottery mode, whether they won, refuses those who may not buy,
   * locks free slots, creates the orders, raises the counts, assigns the slots and writes the history. Should
   * any attempt of the batch not go through with the others (a retried key, someone over the limit), the
   * statement refuses itself, which undoes all of it, and every attempt takes the one-at-a-time path, whose
   * answers are exact; the batch only saves round trips.
   */
  async function reserveBatch(attempts: readonly ReserveAttempt[]): Promise<ItemOutcome<Reserved>[]> {
    const db = attempts[0]!.db;
    const collectionId = attempts[0]!.input.collectionId;
    const outcomes: (ItemOutcome<Reserved> | undefined)[] = attempts.map(() => undefined);
    const alone = async (i: number) => {
      const { userId, input } = attempts[i]!;
      try {
        outcomes[i] = { ok: true, value: await reserveInDb(attempts[i]!.db, userId, input) };
      } catch (error) {
        outcomes[i] = { ok: false, error };
      }
    };

    const now = deps.clock();
    let collection: CollectionRow;
    try {
      collection = await termsOf(db, collectionId);
    } catch (error) {
      return attempts.map(() => ({ ok: false, error }));
    }

    const together: number[] = [];
    const later: number[] = [];
    const seen = new Set<string>();
    attempts.forEach(({ userId, input }, i) => {
      const refusal = refusalOfTerms(collection, now, input.quantity);
      if (refusal !== null) outcomes[i] = { ok: false, error: refusal };
      // One attempt per account (and so per person) in a batch: a second one's answer depends on the first.
      else if (seen.has(String(userId))) later.push(i);
      else {
        seen.add(String(userId));
        together.push(i);
      }
    });

    if (together.length > 0) {
      const wanted = together.map((i, position) => {
        const { userId, input } = attempts[i]!;
        return { position, order: newOrder(collection, now, userId, "", input) };
      });
      try {
        const result = await db.execute(reservationStatement(collection, now, wanted));
        const [summary] = rowsOf(result) as {
          free: number;
          reserved: ReservedRow[] | null;
          refused: { position: number; refusal: "kyc.notVerified" | "lottery.notWinner" }[] | null;
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
        deps.onReservations?.("group", decided);
      } catch {
        // Whatever stopped the batch (its own refusal, a lost connection, a deadlock), nothing of it was
        // kept; each attempt is tried alone, where idempotency keys make a batch that did commit harmless.
        for (const i of together) outcomes[i] = undefined;
        later.push(...together);
      }
    }
    for (const i of later.sort((a, b) => a - b)) await alone(i);
    return outcomes.map((outcome) => outcome!);
  }

  type ReservedRow = { position: number; order_id: number | string; commitment: string; editions: (number | string)[] };

  /**
   * The statement of a reservation batch. The attempts come as one array per column (five parameters
   * however large the batch, unnested into rows). Its steps are CTEs, the data-modifying ones running once
   * each and seeing each other only through what they return:
   * - `judged` finds each buyer's verified identity (the KYC service's rule) and whether it may buy (the
   *   lottery's rule); `eligible` keeps those who may, and the answer names the refusal of the others;
   * - `free` locks up to the wanted number of available slots, lowest edition numbers first, skipping those
   *   other batches hold (the limit stands outside the locking subquery, see lockFreeSlots);
   * - `fits` keeps the longest prefix of the eligible, in arrival order, whose quantities the free slots
   *   cover, and gives each attempt its range of them;
   * - `created` inserts their orders (a key that has its order already inserts nothing);
   * - `counted` raises each identity's count while it stays within the limit, in commitment order so that
   *   concurrent batches lock count rows in one order;
   * - `assigned` reserves each order's slots, and `history` writes its first event.
   * When `created` or `counted` has fewer rows than `fits`, or two eligible attempts are one person, the
   * statement refuses itself (reservation_batch_refused raises SZ001) and so keeps nothing.
   */
  function reservationStatement(
    collection: CollectionRow,
    now: Date,
    wanted: readonly { position: number; order: ReturnType<typeof newOrder> }[],
  ) {
    const at = now.toISOString();
    const expiresAt = wanted[0]!.order.expiresAt.toISOString();
    return sql`
      with wanted (position, order_no, user_id, quantity, idempotency_key) as (
        select * from unnest(${sql.param(wanted.map((w) => w.position))}::int[],
                             ${sql.param(wanted.map((w) => w.order.orderNo))}::text[],
                             ${sql.param(wanted.map((w) => w.order.userId))}::bigint[],
                             ${sql.param(wanted.map((w) => w.order.quantity))}::int[],
                             ${sql.param(wanted.map((w) => w.order.idempotencyKey))}::text[])
      ),
      judged as (
        select wanted.*, kyc_identities.commitment, ${buyerRefusal(collection.id)} as refusal
        from wanted
        left join kyc_identities on kyc_identities.user_id = wanted.user_id and ${deps.verifiedCondition()}
      ),
      eligible as (
        select * from judged where refusal is null
      ),
      free as (
        select edition_no, row_number() over (order by edition_no) as k from (
          select edition_no from (
            select edition_no from edition_slots
            where collection_id = ${collection.id} and status = 'available'
            order by edition_no
            for update skip locked) as unlocked
          limit (select coalesce(sum(quantity), 0) from eligible)) as locked
      ),
      fits as (
        select * from (
          select eligible.*, sum(quantity) over (order by position) as upto from eligible) as running
        where upto <= (select count(*) from free)
      ),
      created as (
        insert into orders (order_no, user_id, collection_id, commitment, quantity, unit_price_fen, amount_fen,
                            idempotency_key, expires_at, created_at, updated_at)
        select order_no, user_id, ${collection.id}, commitment, quantity, ${collection.priceFen}::int,
               quantity * ${collection.priceFen}::int, idempotency_key, ${expiresAt}::timestamptz,
               ${at}::timestamptz, ${at}::timestamptz
        from fits order by position
        on conflict (user_id, idempotency_key) do nothing
        returning id, user_id, idempotency_key
      ),
      counted as (
        insert into purchase_counts (collection_id, commitment, count)
        select ${collection.id}, fits.commitment, fits.quantity
        from fits join created using (user_id, idempotency_key)
        order by fits.commitment
        on conflict (collection_id, commitment) do update
          set count = purchase_counts.count + excluded.count
          where purchase_counts.count + excluded.count <= ${collection.perPersonLimit}
        returning commitment
      ),
      placed as (
        select fits.position, fits.commitment, created.id as order_id, free.edition_no
        from fits
        join created using (user_id, idempotency_key)
        join free on free.k > fits.upto - fits.quantity and free.k <= fits.upto
      ),
      assigned as (
        update edition_slots set status = 'reserved', order_id = placed.order_id
        from placed
        where edition_slots.collection_id = ${collection.id} and edition_slots.edition_no = placed.edition_no
      ),
      history as (
        insert into order_events (order_id, from_status, to_status, reason, at)
        select id, null, 'created', '', ${at}::timestamptz from created
      )
      select
        (select count(*)::int from free) as free,
        (select json_agg(json_build_object('position', position, 'order_id', order_id, 'commitment', commitment,
                                           'editions', editions))
         from (select position, order_id, commitment, array_agg(edition_no order by edition_no) as editions
               from placed group by position, order_id, commitment) as orders) as reserved,
        (select json_agg(json_build_object('position', position, 'refusal', refusal))
         from judged where refusal is not null) as refused
      where case
        when (select count(*) from created) = (select count(*) from fits)
             and (select count(*) from counted) = (select count(*) from fits)
             and (select count(distinct commitment) from eligible) = (select count(*) from eligible) then true
        else reservation_batch_refused('an attempt may not go through with the others')
      end`;
  }

  /** One group-commit queue per collection. */
  const groups = new Map<number, (attempt: ReserveAttempt) => Promise<Reserved>>();
  function reserveGrouped(attempt: ReserveAttempt): Promise<Reserved> {
    let group = groups.get(attempt.input.collectionId);
    if (group === undefined) {
      group = createBatcher(reserveBatch, { maxBatch: RESERVE_BATCH, maxInFlight: RESERVE_BATCHES_IN_FLIGHT });
      groups.set(attempt.input.collectionId, group);
    }
    return group(attempt);
  }

  /**
   * A published collection's row, read once per process (the crowd's first attempts share one read): a
   * published collection never changes state or terms again (catalog updates stop at "approved").
   */
  const terms = new Map<number, Promise<CollectionRow>>();
  function termsOf(db: Db, collectionId: number): Promise<CollectionRow> {
    let row = terms.get(collectionId);
    if (row === undefined) {
      row = deps.catalog.getPublished(db, collectionId).then(({ collection }) => collection);
      terms.set(collectionId, row);
      // An unknown or unpublished collection is asked again next time.
      row.catch(() => terms.delete(collectionId));
    }
    return row;
  }

  return {
    /** Pre-allocates one slot per edition; called once when a collection is published. */
    async allocate(db: Db, collectionId: number, editionSize: number) {
      await db.execute(sql`
        insert into edition_slots (collection_id, edition_no)
        select ${collectionId}, n from generate_series(1, ${editionSize}::int) as n
        on conflict do nothing`);
    },

    async reserve(db: Db, userId: number, input: ReserveInput): Promise<OrderRow & { editions: number[] }> {
      try {
        await attempts.consume(String(userId));
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          throw new AppError("auth.rateLimited", { retryAfterSeconds: Math.ceil(error.msBeforeNext / 1000) });
        }
        throw error;
      }
      // The gate answers the crowd that comes after the last edition; the database decides everyone else.
      const limit = (await termsOf(db, input.collectionId)).perPersonLimit;
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
      if (admission === "known") return withoutMarker(await reserveInDb(db, userId, input));
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
    },

    stock,

    /** An issuer's view of one collection's sales: stock, revenue, paid orders per hour and orders by state. */
    async salesOf(db: Db, collectionId: number) {
      const paidStates = sql`(${orders.status} in ('paid', 'minting', 'minted'))`;
      const [totals] = await db
        .select({
          revenueFen: sql<number>`coalesce(sum(${orders.amountFen}) filter (where ${paidStates}), 0)::bigint`,
          paidOrders: sql<number>`count(*) filter (where ${paidStates})::int`,
        })
        .from(orders)
        .where(eq(orders.collectionId, collectionId));
      const series = await db
        .select({
          hour: sql<string>`date_trunc('hour', ${orders.paidAt})`,
          editions: sql<number>`sum(${orders.quantity})::int`,
          revenueFen: sql<number>`sum(${orders.amountFen})::bigint`,
        })
        .from(orders)
        .where(and(eq(orders.collectionId, collectionId), paidStates))
        .groupBy(sql`1`)
        .orderBy(sql`1`);
      const byStatus = await db
        .select({ status: orders.status, count: sql<number>`count(*)::int` })
        .from(orders)
        .where(eq(orders.collectionId, collectionId))
        .groupBy(orders.status);
      return {
        stock: await stock(db, collectionId),
        revenueFen: Number(totals?.revenueFen ?? 0),
        paidOrders: totals?.paidOrders ?? 0,
        series: series.map((row) => ({
          hour: new Date(row.hour),
          editions: row.editions,
          revenueFen: Number(row.revenueFen),
        })),
        ordersByStatus: Object.fromEntries(byStatus.map((row) => [row.status, row.count])),
      };
    },

    /** How many editions of a collection the caller's identity holds (reserved or bought) against its limit. */
    async allowance(db: Db, userId: number, collectionId: number) {
      const commitment = await deps.kyc.commitmentOf(db, userId);
      if (commitment === null) return { held: 0 };
      const [row] = await db
        .select({ count: purchaseCounts.count })
        .from(purchaseCounts)
        .where(and(eq(purchaseCounts.collectionId, collectionId), eq(purchaseCounts.commitment, commitment)));
      return { held: row?.count ?? 0 };
    },

    async order(db: Db, userId: number, orderNo: string) {
      const [row] = await db
        .select()
        .from(orders)
        .where(and(eq(orders.orderNo, orderNo), eq(orders.userId, userId)));
      // Someone else's order is "not found": its existence is not disclosed.
      if (row === undefined) throw new AppError("order.notFound");
      return { ...row, editions: await editionsOf(db, row.id) };
    },

    async myOrders(db: Db, userId: number) {
      return db
        .select()
        .from(orders)
        .where(eq(orders.userId, userId))
        .orderBy(sql`${orders.id} desc`)
        .limit(100);
    },

    async orderHistory(db: Db, orderId: number) {
      return db.select().from(orderEvents).where(eq(orderEvents.orderId, orderId)).orderBy(asc(orderEvents.id));
    },

    /** Expires unpaid orders past their deadline, giving their editions back. Safe to run on several instances. */
    async expireDue(db: Db, limit = 200): Promise<number> {
      const now = deps.clock();
      return db.transaction(async (tx) => {
        const due = await tx
          .select()
          .from(orders)
          .where(and(eq(orders.status, "created"), lte(orders.expiresAt, now)))
          .orderBy(asc(orders.expiresAt))
          .limit(limit)
          .for("update", { skipLocked: true });
        for (const order of due) await release(tx, order, "expired", "payment window closed");
        return due.length;
      });
    },

    /** The collector gives up an unpaid order at once. */
    async cancel(db: Db, userId: number, orderNo: string) {
      return db.transaction(async (tx) => {
        const [order] = await tx
          .select()
          .from(orders)
          .where(and(eq(orders.orderNo, orderNo), eq(orders.userId, userId)))
          .for("update");
        if (order === undefined) throw new AppError("order.notFound");
        if (order.status !== "created") throw new AppError("order.wrongState", { status: order.status });
        await release(tx, order, "expired", "cancelled by the collector");
      });
    },

    /** The order behind a payment, locked for the caller's transaction. */
    async lockOrder(tx: Db, orderId: number): Promise<OrderRow> {
      const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for("update");
      if (order === undefined) throw new AppError("order.notFound");
      return order;
    },

    /**
     * Records the payment of a locked order: a reserved order becomes paid and its editions sold.
     * An order that expired first is "late" (the money must go back); a paid one is a "duplicate".
     */
    async markPaid(tx: Db, order: OrderRow, paidAt: Date): Promise<"paid" | "late" | "duplicate"> {
      if (order.status === "expired") return "late";
      if (order.status !== "created") return "duplicate";
      await tx.update(orders).set({ status: "paid", paidAt, updatedAt: deps.clock() }).where(eq(orders.id, order.id));
      await tx
        .update(editionSlots)
        .set({ status: "sold" })
        .where(and(eq(editionSlots.orderId, order.id), eq(editionSlots.status, "reserved")));
      await history(tx, order.id, order.status, "paid");
      return "paid";
    },

    /** A paid order's money went back before delivery: its editions and the person's count return. */
    async markRefunded(tx: Db, order: OrderRow, reason: string) {
      if (order.status !== "paid") return false;
      await tx
        .update(editionSlots)
        .set({ status: "available", orderId: null })
        .where(eq(editionSlots.orderId, order.id));
      await tx
        .update(purchaseCounts)
        .set({ count: sql`${purchaseCounts.count} - ${order.quantity}` })
        .where(
          and(eq(purchaseCounts.collectionId, order.collectionId), eq(purchaseCounts.commitment, order.commitment)),
        );
      await tx.update(orders).set({ status: "refunded", updatedAt: deps.clock() }).where(eq(orders.id, order.id));
      await history(tx, order.id, order.status, "refunded", reason);
      await deps.gate.reset(order.collectionId);
      return true;
    },

    /** Paid orders whose mint jobs were put in a batch. */
    async markMinting(tx: Db, orderIds: number[]) {
      if (orderIds.length === 0) return;
      const moved = await tx
        .update(orders)
        .set({ status: "minting", updatedAt: deps.clock() })
        .where(and(inArray(orders.id, orderIds), eq(orders.status, "paid")))
        .returning({ id: orders.id });
      const at = deps.clock();
      if (moved.length > 0) {
        await tx
          .insert(orderEvents)
          .values(moved.map(({ id }) => ({ orderId: id, fromStatus: "paid", toStatus: "minting", reason: "", at })));
      }
    },

    /** Orders whose tokens landed on chain; returns each one's buyer. */
    async markMinted(tx: Db, orderIds: number[], reason: string): Promise<Map<number, number>> {
      if (orderIds.length === 0) return new Map();
      const moved = await tx
        .update(orders)
        .set({ status: "minted", updatedAt: deps.clock() })
        .where(and(inArray(orders.id, orderIds), eq(orders.status, "minting")))
        .returning({ id: orders.id, userId: orders.userId });
      const at = deps.clock();
      if (moved.length > 0) {
        await tx
          .insert(orderEvents)
          .values(moved.map(({ id }) => ({ orderId: id, fromStatus: "minting", toStatus: "minted", reason, at })));
      }
      return new Map(moved.map(({ id, userId }) => [id, userId]));
    },

    /** Delivery failed for good: the order is paid but undeliverable, ready for its refund. */
    async markUndeliverable(tx: Db, orderId: number, reason: string) {
      const moved = await tx
        .update(orders)
        .set({ status: "paid", updatedAt: deps.clock() })
        .where(and(eq(orders.id, orderId), eq(orders.status, "minting")))
        .returning({ id: orders.id });
      if (moved.length > 0) await history(tx, orderId, "minting", "paid", `delivery failed: ${reason}`);
    },

    async orderByNo(db: Db, orderNo: string) {
      const [row] = await db.select().from(orders).where(eq(orders.orderNo, orderNo));
      return row;
    },
  };
}

export type DropsService = ReturnType<typeof createDropsService>;

/** Rows of a raw `execute`, on PGlite and node-postgres alike. */
function rowsOf(result: unknown): unknown[] {
  const rows = (result as { rows?: unknown[] }).rows;
  return Array.isArray(rows) ? rows : [];
}
