/**
 * Group commit for hot paths: callers hand in one item each and wait for its
 * own answer, while the items that arrive during a running batch are carried
 * together by the next one. Under a crowd, N callers cost about N / batch-size
 * database round trips instead of N; alone, a caller waits for nobody (a
 * batch starts at once when fewer than `maxInFlight` are running).
 */
export interface BatcherOptions {
  /** Most items one batch carries. */
  maxBatch: number;
  /** Most batches running at once; more items wait for the next free one. */
  maxInFlight: number;
  /**
   * A batch starts no sooner than this after the one before it started; the items that arrive meanwhile join
   * it. Unset, a batch starts as soon as a slot is free. Under a crowd this caps the round trips (a database
   * query costs the process about as much to send as a whole HTTP answer, mostly waking the server on the
   * other core), and adds at most this much waiting; alone, a caller waits for nobody.
   */
  minIntervalMs?: number;
}

/** What a batch answers for each of its items, in the items' order. */
export type ItemOutcome<O> = { ok: true; value: O } | { ok: false; error: unknown };

export function createBatcher<I, O>(
  run: (items: I[]) => Promise<ItemOutcome<O>[]>,
  options: BatcherOptions,
): (item: I) => Promise<O> {
  const waiting: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  let inFlight = 0;
  const interval = options.minIntervalMs ?? 0;
  let lastStart = -Infinity;
  let timer: NodeJS.Timeout | null = null;

  function startBatches() {
    while (inFlight < options.maxInFlight && waiting.length > 0) {
      if (interval > 0) {
        const now = performance.now();
        if (now < lastStart + interval) {
          timer ??= setTimeout(
            () => {
              timer = null;
              startBatches();
            },
            lastStart + interval - now,
          );
          return;
        }
        lastStart = now;
      }
      const batch = waiting.splice(0, options.maxBatch);
      inFlight++;
      run(batch.map((entry) => entry.item))
        .then(
          (outcomes) =>
            batch.forEach((entry, i) => {
              const outcome = outcomes[i];
              if (outcome === undefined) entry.reject(new Error("batch answered fewer items than it was given"));
              else if (outcome.ok) entry.resolve(outcome.value);
              else entry.reject(outcome.error);
            }),
          (error: unknown) => batch.forEach((entry) => entry.reject(error)),
        )
        .finally(() => {
          inFlight--;
          startBatches();
        });
    }
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      startBatches();
    });
}

/**
 * One batcher (or prepared statement, or anything else made for a handle) per database handle (the pool, or a
 * transaction), made on first use: a service whose methods take `db` can batch its hot lookups without its
 * callers knowing.
 */
export function perDatabase<D extends object, T>(make: (db: D) => T): (db: D) => T {
  const made = new WeakMap<D, T>();
  return (db) => {
    let value = made.get(db);
    if (value === undefined) {
      value = make(db);
      made.set(db, value);
    }
    return value;
  };
}
