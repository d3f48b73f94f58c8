import type { SQL } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import type { Limiters } from "../../security/rate-limits.js";
import type { CatalogService } from "../catalog/service.js";
import type { KycService } from "../kyc/service.js";
import type { AdmissionGate } from "./gate.js";
import { createExpiry, createOrderQueries, createSettlement } from "./lifecycle.js";
import { createOrderMachine } from "./orders.js";
import { createReservations } from "./reservation.js";
import { allowance, salesOf } from "./sales.js";
import { allocate, stock } from "./slots.js";
import { createTermsCache } from "./terms.js";

export { newOrderNo, type OrderRow } from "./orders.js";
export type { Stock } from "./slots.js";

/**
 * Flash-sale drops and orders, composed of their parts:
 * - reservation.ts: the reservation door (rate limit, admission gate), the lone reservation and the group
 *   statement of a rush (reservation-sql.ts);
 * - orders.ts: the order state machine, through which every state change goes; lifecycle.ts: expiry,
 *   cancellation, payment, refund and delivery of orders, and the collector's view of them;
 * - slots.ts: editions and per-person counts; terms.ts: published terms, read once;
 * - sales.ts: an issuer's sales figures.
 * Unpaid orders expire and give their editions and count back. The price always comes from the collection.
 */

export interface DropsDependencies {
  catalog: CatalogService;
  kyc: KycService;
  clock: () => Date;
  paymentWindowMinutes: number;
  /** Reservation attempts one account may make per minute (retries of the same key included). */
  reserveAttemptsPerMinute: number;
  /** Where that limit counts: Redis when configured, so that every instance counts against one limit. */
  limiters?: Limiters;
  /** The flash-sale admission gate (Redis when REDIS_URL is set, in memory otherwise). */
  gate: AdmissionGate;
  /**
   * Told how many reservation attempts the database decided in a group statement, or one at a time
   * (retries, a group that refused itself, someone's second attempt in the same group).
   */
  onReservations?: (path: "group" | "alone", attempts: number) => void;
  /** Whether the identity `commitment` (an SQL expression) may buy in a drop: everybody, or a lottery's winners. */
  buyerCondition: (collectionId: number, commitment: SQL) => SQL;
}

export function createDropsService(deps: DropsDependencies) {
  const machine = createOrderMachine(deps.clock);
  const parts = { clock: deps.clock, gate: deps.gate, machine };
  const termsOf = createTermsCache(deps.catalog);
  const expiry = createExpiry(parts);
  return {
    /** Pre-allocates one slot per edition; called once when a collection is published. */
    allocate,
    reserve: createReservations({ deps, termsOf, machine }),
    stock,
    salesOf,
    allowance: (db: Db, userId: number, collectionId: number) => allowance(deps.kyc, db, userId, collectionId),
    ...createOrderQueries(),
    ...expiry,
    /**
     * A collection was taken down: its unpaid orders are cancelled (editions and counts given back) in the
     * caller's transaction, and this process stops reserving at once (others within TERMS_TTL_MS; every
     * reservation re-reads a collection whose terms it forgot).
     */
    async closeSale(tx: Db, collectionId: number, reason: string) {
      termsOf.forget(collectionId);
      return expiry.expireCollection(tx, collectionId, reason);
    },
    ...createSettlement(parts),
  };
}

export type DropsService = ReturnType<typeof createDropsService>;
