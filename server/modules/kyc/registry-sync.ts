import { and, asc, eq, inArray, lte } from "drizzle-orm";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { registryBindings } from "./tables.js";
import { backoffMs, errorSummary, periodic } from "../../jobs.js";

/**
 * Drains the registry outbox: binds each verified collector's custodial
 * address in the on-chain identity registry. Rows are claimed with
 * `FOR UPDATE SKIP LOCKED` and a lease, so several workers can share the
 * outbox and a crashed worker's rows come back after the lease. Before
 * sending, the chain is asked whether the binding is already there (a crash
 * after the transaction was mined), and `bind` with the same commitment is
 * itself idempotent, so a retry never does harm. Failures are retried with
 * exponential backoff and never dropped.
 */
export interface RegistrySyncOptions {
  db: Db;
  chain: Chain;
  clock?: () => Date;
  leaseMs?: number;
  batchSize?: number;
  onError?: (error: unknown, bindingId: number) => void;
}

export interface RegistrySync {
  /** Processes what is due now; returns how many bindings were confirmed and how many failed. */
  runOnce(): Promise<{ confirmed: number; failed: number }>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function createRegistrySync(options: RegistrySyncOptions): RegistrySync {
  const { db, chain } = options;
  const clock = options.clock ?? (() => new Date());
  const leaseMs = options.leaseMs ?? 60_000;
  const batchSize = options.batchSize ?? 20;
  async function claim() {
    const now = clock();
    return db.transaction(async (tx) => {
      const due = await tx
        .select()
        .from(registryBindings)
        .where(and(eq(registryBindings.status, "pending"), lte(registryBindings.nextAttemptAt, now)))
        .orderBy(asc(registryBindings.id))
        .limit(batchSize)
        .for("update", { skipLocked: true });
      if (due.length > 0) {
        await tx
          .update(registryBindings)
          .set({ nextAttemptAt: new Date(now.getTime() + leaseMs) })
          .where(
            inArray(
              registryBindings.id,
              due.map((row) => row.id),
            ),
          );
      }
      return due;
    });
  }

  async function process(row: typeof registryBindings.$inferSelect): Promise<void> {
    const expiresAt = BigInt(Math.floor(row.expiresAt.getTime() / 1000));
    const current = await chain.registry.bindingOf(row.address);
    let txHash: string | null = null;
    let blockNumber: number | null = null;
    const alreadyThere =
      current.commitment.toLowerCase() === row.commitment.toLowerCase() &&
      current.expiresAt >= expiresAt &&
      Number(current.level) === row.level;
    if (!alreadyThere) {
      const receipt = await chain.send("kycOperator", ({ registry }, overrides) =>
        registry.bind(row.address, row.commitment, row.level, expiresAt, overrides),
      );
      txHash = receipt.hash;
      blockNumber = receipt.blockNumber;
    }
    await db
      .update(registryBindings)
      .set({ status: "confirmed", txHash, blockNumber, lastError: null, updatedAt: clock() })
      .where(eq(registryBindings.id, row.id));
  }

  async function runOnce() {
    let confirmed = 0;
    let failed = 0;
    for (const row of await claim()) {
      try {
        await process(row);
        confirmed++;
      } catch (error) {
        failed++;
        options.onError?.(error, row.id);
        const attempts = row.attempts + 1;
        await db
          .update(registryBindings)
          .set({
            attempts,
            nextAttemptAt: new Date(clock().getTime() + backoffMs(attempts)),
            lastError: errorSummary(error),
            updatedAt: clock(),
          })
          .where(eq(registryBindings.id, row.id));
      }
    }
    return { confirmed, failed };
  }

  return { runOnce, ...periodic(runOnce, (error) => options.onError?.(error, 0)) };
}
