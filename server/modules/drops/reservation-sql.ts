import { type SQL, sql } from "drizzle-orm";

import { verifiedIdentityOf } from "../kyc/sql.js";
import type { NewOrder } from "./orders.js";
import type { CollectionRow } from "./terms.js";

/** The SQL of reservations: who may buy, and the group statement. */

/** Whether the identity `commitment` (an SQL expression) may buy in a drop: everybody, or a lottery's winners. */
export type BuyerCondition = (collectionId: number, commitment: SQL) => SQL;

export type Refusal = "kyc.notVerified" | "lottery.notWinner";

/**
 * The buyer of the account `account` (an SQL column) judged at `at`: the join of their verified identity (the
 * KYC module's rule), its commitment, and why they may not buy in the drop, as SQL: 'kyc.notVerified',
 * 'lottery.notWinner' (the lottery's rule), or null when they may. The one judgement of lone reservations and
 * group statements alike.
 */
export function judgeBuyer(account: SQL, at: Date, collectionId: number, buyerCondition: BuyerCondition) {
  const identity = verifiedIdentityOf(account, at);
  return {
    join: identity.join,
    commitment: identity.commitment,
    refusal: sql`case when ${identity.commitment} is null then 'kyc.notVerified'
                      when not ${buyerCondition(collectionId, identity.commitment)} then 'lottery.notWinner'
                 end`,
  };
}

/** The lone buyer's judgement: one row of `commitment` and `refusal`. */
export function buyerStatement(userId: number, at: Date, collectionId: number, buyerCondition: BuyerCondition) {
  const buyer = judgeBuyer(sql`buyer.user_id`, at, collectionId, buyerCondition);
  return sql`
    select ${buyer.commitment} as commitment, ${buyer.refusal} as refusal
    from (select ${userId}::bigint as user_id) as buyer
    ${buyer.join}`;
}

/**
 * The statement of a reservation batch. The attempts come as one array per column (five parameters
 * however large the batch, unnested into rows). Its steps are CTEs, the data-modifying ones running once
 * each and seeing each other only through what they return:
 * - `judged` finds each buyer's verified identity (the KYC module's rule) and whether it may buy (the
 *   lottery's rule); `eligible` keeps those who may, and the answer names the refusal of the others;
 * - `free` locks up to the wanted number of available slots, lowest edition numbers first, skipping those
 *   other batches hold (the limit stands outside the locking subquery, see lockFreeSlots);
 * - `fits` keeps the longest prefix of the eligible, in arrival order, whose quantities the free slots
 *   cover, and gives each attempt its order's id (drawn from the orders' sequence) and its range of them, so
 *   the steps after it need no join back to what `created` returns (joins of CTEs, which the planner thinks
 *   are one row each, become nested loops: 200 × 200 comparisons twice, 24 of a group's 40 ms);
 * - `created` inserts their orders (a key that has its order already inserts nothing);
 * - `counted` raises each identity's count by the sum of its attempts (a person's several attempts come
 *   together) while it stays within the limit, in commitment order so that concurrent batches lock count rows
 *   in one order;
 * - `placed` gives each attempt the free slots of its range, by position in the array of them;
 * - `assigned` reserves each order's slots, and `history` writes its first event (the orders' move from
 *   nothing to "created", in the statement itself rather than through the order machine: one round trip).
 *   The slots are named by primary key (collection and an array of edition numbers), so the plan looks up
 *   each one whatever the statistics say: a collection whose slots were made moments before its sale has
 *   none yet, and the planner hashed every slot of it for each group instead (10 ms for a group of 25).
 * When `created` has fewer rows than `fits`, or `counted` fewer than the identities in `fits` (one of them
 * would pass the limit), the statement refuses itself (reservation_batch_refused raises SZ001) and so keeps
 * nothing.
 */
export function reservationStatement(
  collection: CollectionRow,
  now: Date,
  wanted: readonly { position: number; order: NewOrder }[],
  buyerCondition: BuyerCondition,
) {
  const at = now.toISOString();
  const expiresAt = wanted[0]!.order.expiresAt.toISOString();
  const buyer = judgeBuyer(sql`wanted.user_id`, now, collection.id, buyerCondition);
  return sql`
    with wanted (position, order_no, user_id, quantity, idempotency_key) as (
      select * from unnest(${sql.param(wanted.map((w) => w.position))}::int[],
                           ${sql.param(wanted.map((w) => w.order.orderNo))}::text[],
                           ${sql.param(wanted.map((w) => w.order.userId))}::bigint[],
                           ${sql.param(wanted.map((w) => w.order.quantity))}::int[],
                           ${sql.param(wanted.map((w) => w.order.idempotencyKey))}::text[])
    ),
    judged as (
      select wanted.*, ${buyer.commitment} as commitment, ${buyer.refusal} as refusal
      from wanted
      ${buyer.join}
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
      select running.*, nextval(pg_get_serial_sequence('orders', 'id')) as order_id from (
        select eligible.*, sum(quantity) over (order by position) as upto from eligible) as running
      where upto <= (select count(*) from free)
    ),
    created as (
      insert into orders (id, order_no, user_id, collection_id, commitment, quantity, unit_price_fen, amount_fen,
                          idempotency_key, expires_at, created_at, updated_at)
      select order_id, order_no, user_id, ${collection.id}, commitment, quantity, ${collection.priceFen}::bigint,
             quantity * ${collection.priceFen}::bigint, idempotency_key, ${expiresAt}::timestamptz,
             ${at}::timestamptz, ${at}::timestamptz
      from fits order by position
      on conflict (user_id, collection_id, idempotency_key) do nothing
      returning id
    ),
    counted as (
      insert into purchase_counts (collection_id, commitment, count)
      select ${collection.id}, commitment, sum(quantity)::int from fits
      group by commitment
      order by commitment
      on conflict (collection_id, commitment) do update
        set count = purchase_counts.count + excluded.count
        where purchase_counts.count + excluded.count <= ${collection.perPersonLimit}
      returning commitment
    ),
    placed as (
      select fits.position, fits.commitment, fits.order_id, numbered.editions[k] as edition_no
      from fits
      cross join (select array_agg(edition_no order by k) as editions from free) as numbered
      cross join lateral generate_series(fits.upto - fits.quantity + 1, fits.upto) as k
    ),
    assigned as (
      update edition_slots set status = 'reserved', order_id = placed.order_id
      from placed
      where edition_slots.collection_id = ${collection.id} and edition_slots.edition_no = placed.edition_no
        and edition_slots.edition_no = any((select array_agg(edition_no) from placed)::int[])
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
           and (select count(*) from counted) = (select count(distinct commitment) from fits) then true
      else reservation_batch_refused('an attempt may not go through with the others')
    end`;
}
