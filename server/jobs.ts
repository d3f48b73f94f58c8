/**
 * What the background workers share: a self-scheduling loop that never
 * overlaps its runs and stops cleanly, exponential backoff, and a short,
 * key-free description of a failure for the database.
 */
export interface PeriodicJob {
  start(intervalMs: number): void;
  /** Stops scheduling and waits for the run under way. */
  stop(): Promise<void>;
}

export function periodic(run: () => Promise<unknown>, onError?: (error: unknown) => void): PeriodicJob {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  return {
    start(intervalMs) {
      const tick = () => {
        running = run()
          .catch((error) => onError?.(error))
          .finally(() => {
            if (timer !== undefined) timer = setTimeout(tick, intervalMs);
          });
      };
      timer = setTimeout(tick, intervalMs);
    },
    async stop() {
      const pending = timer;
      timer = undefined;
      if (pending !== undefined) clearTimeout(pending);
      await running;
    },
  };
}

/**
 * Chain work waits at most this long between tries: a chain back from an
 * outage is used again within half a minute (one planned batch holds up its
 * whole collection, so waiting minutes would hold up every buyer of it).
 */
export const MAX_BACKOFF_MS = 30_000;

/** 2 s, 4 s, 8 s, 16 s, then every 30 s. */
export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(attempts, 20));
}

/** The short message of an error (ethers' `shortMessage` when there is one), at most 500 characters. */
export function errorSummary(error: unknown): string {
  const record = error as { shortMessage?: unknown; message?: unknown } | null;
  const text = typeof record?.shortMessage === "string" ? record.shortMessage : String(record?.message ?? error);
  return text.slice(0, 500);
}
