import { Redis } from "ioredis";

/**
 * The flash-sale admission gate: a fast, shared stock counter per collection,
 * so the crowd that arrives after the last edition is turned away without
 * touching the database. It only refuses early: every admitted attempt still
 * goes through the database transaction, whose constraints decide (a slot is
 * claimed once, the per-identity count stays within the limit). The counter
 * is seeded from the database on first use and again whenever it is missing
 * (Redis restarted: it keeps nothing on disk). A wrong counter cannot oversell:
 * too high, the database refuses; too low (editions came back from expired
 * orders), a "sold out" is re-checked against the database at most once per
 * second per collection and the counter re-seeded.
 */
/** `known`: this attempt was admitted or made an order before; it takes nothing and the database answers it. */
export type Admission = "admitted" | "known" | "soldOut" | "limitReached";

export interface AdmissionGate {
  readonly kind: "redis" | "memory";
  /**
   * Takes `quantity` from the collection's counter when it has that many and `holder` stays within
   * `limit`, remembering `attemptKey` so a retry of an admitted attempt is admitted again without
   * taking more; `availableInDb` seeds the counter. The holder counts are a cache of what the
   * database enforces: they start empty after a reset and only ever refuse too little.
   */
  admit(
    collectionId: number,
    quantity: number,
    attempt: { key: string; holder: string; limit: number },
    availableInDb: () => Promise<number>,
  ): Promise<Admission>;
  /** Gives back what an admitted attempt did not take (the database refused it for a reason of its own). */
  giveBack(collectionId: number, quantity: number, attempt: { key: string; holder: string }): Promise<void>;
  /**
   * Forgets an admitted attempt the database answered "sold out" without giving its units back: the
   * counter was too high, and returning them would admit the next attempts only for the database to refuse
   * them too. (A counter left too low is corrected by the sold-out re-check.)
   */
  forget(collectionId: number, quantity: number, attempt: { key: string; holder: string }): Promise<void>;
  /** Records an attempt that made its order without the gate, so its retries are `known` (takes nothing). */
  remember(collectionId: number, quantity: number, attempt: { key: string; holder: string }): Promise<void>;
  /**
   * Editions came back (an unpaid order expired or was cancelled, a paid one refunded): adds `quantity` to the
   * counter when it exists (a missing one is seeded from the database, returned editions included) and takes
   * it off `holder`'s count. The counter is corrected, not dropped, so the crowd does not reseed it.
   */
  restock(collectionId: number, quantity: number, holder: string): Promise<void>;
  /** Forgets a collection's counter, so the next attempt seeds it from the database. */
  reset(collectionId: number): Promise<void>;
  close(): Promise<void>;
}

const SOLD_OUT_RECHECK_MS = 1000;

// KEYS[1] the counter, KEYS[2] the admitted attempts, KEYS[3] holders' counts;
// ARGV[1] quantity, ARGV[2] attempt key, ARGV[3] holder, ARGV[4] limit.
// -1: no counter yet, 0: not enough, 1: taken, 2: over the limit, 3: this attempt is known.
const ADMIT = `
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return 3 end
local stock = redis.call('GET', KEYS[1])
if not stock then return -1 end
if tonumber(stock) < tonumber(ARGV[1]) then return 0 end
local held = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')
if held + tonumber(ARGV[1]) > tonumber(ARGV[4]) then return 2 end
redis.call('DECRBY', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[3], ARGV[3], ARGV[1])
return 1`;

const REMEMBER = `
if redis.call('SADD', KEYS[2], ARGV[2]) == 1 then redis.call('HINCRBY', KEYS[3], ARGV[3], ARGV[1]) end
return 1`;

// Forgets an admitted attempt and its holder's units; ARGV[4] = 1 also gives the units back to the counter.
const RELEASE = `
if redis.call('SREM', KEYS[2], ARGV[2]) == 1 then
  if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], ARGV[1]) end
  if redis.call('HINCRBY', KEYS[3], ARGV[3], -tonumber(ARGV[1])) <= 0 then redis.call('HDEL', KEYS[3], ARGV[3]) end
end
return 1`;

// KEYS[1] the counter, KEYS[3] holders' counts; ARGV[1] quantity, ARGV[2] holder.
const RESTOCK = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCRBY', KEYS[1], ARGV[1]) end
if redis.call('HINCRBY', KEYS[3], ARGV[2], -tonumber(ARGV[1])) <= 0 then redis.call('HDEL', KEYS[3], ARGV[2]) end
return 1`;

/** At most one database look per collection per second when the counter says sold out. */
function soldOutRechecks() {
  const last = new Map<number, number>();
  return (collectionId: number): boolean => {
    const now = Date.now();
    if (now - (last.get(collectionId) ?? 0) < SOLD_OUT_RECHECK_MS) return false;
    last.set(collectionId, now);
    return true;
  };
}

/** The gate on Redis (a URL, or a client it then owns: `close` disconnects it). */
export function createRedisGate(connection: string | Redis): AdmissionGate {
  const redis =
    typeof connection === "string"
      ? new Redis(connection, { maxRetriesPerRequest: 2, enableAutoPipelining: true })
      : connection;
  const key = (id: number) => `shuzang:gate:${id}:stock`;
  const attempts = (id: number) => `shuzang:gate:${id}:admitted`;
  const holders = (id: number) => `shuzang:gate:${id}:held`;
  const recheckDue = soldOutRechecks();
  const seeding = new Map<number, Promise<void>>();
  // Loaded once and then called by hash (EVALSHA): the scripts' text is not sent with every attempt.
  redis.defineCommand("gateAdmit", { numberOfKeys: 3, lua: ADMIT });
  redis.defineCommand("gateRemember", { numberOfKeys: 3, lua: REMEMBER });
  redis.defineCommand("gateRelease", { numberOfKeys: 3, lua: RELEASE });
  redis.defineCommand("gateRestock", { numberOfKeys: 3, lua: RESTOCK });
  const scripts = redis as unknown as Record<
    "gateAdmit" | "gateRemember" | "gateRelease" | "gateRestock",
    (...args: (string | number)[]) => Promise<unknown>
  >;
  /** Runs one of the scripts on a collection's three keys with the attempt's arguments. */
  const runScript = (
    script: "gateAdmit" | "gateRemember" | "gateRelease",
    collectionId: number,
    quantity: number,
    attempt: { key: string; holder: string },
    /** ARGV[4]: the holder's limit (admit), whether units go back (release). */
    extra = 0,
  ) =>
    scripts[script](
      key(collectionId),
      attempts(collectionId),
      holders(collectionId),
      quantity,
      attempt.key,
      attempt.holder,
      extra,
    );
  const take = async (
    collectionId: number,
    quantity: number,
    attempt: { key: string; holder: string; limit: number },
  ) => Number(await runScript("gateAdmit", collectionId, quantity, attempt, attempt.limit));
  return {
    kind: "redis",
    async admit(collectionId, quantity, attempt, availableInDb) {
      let answer = await take(collectionId, quantity, attempt);
      if (answer === -1) {
        // The crowd's first attempts find no counter together: one database count seeds it for all of them.
        let pending = seeding.get(collectionId);
        if (pending === undefined) {
          pending = availableInDb()
            .then(async (available) => {
              await redis.set(key(collectionId), available, "NX");
            })
            .finally(() => seeding.delete(collectionId));
          seeding.set(collectionId, pending);
        }
        await pending;
        answer = await take(collectionId, quantity, attempt);
      }
      if (answer === 0 && recheckDue(collectionId)) {
        const available = await availableInDb();
        if (available > 0) {
          await redis.set(key(collectionId), available);
          answer = await take(collectionId, quantity, attempt);
        }
      }
      return answer === 1 ? "admitted" : answer === 3 ? "known" : answer === 2 ? "limitReached" : "soldOut";
    },
    async giveBack(collectionId, quantity, attempt) {
      await runScript("gateRelease", collectionId, quantity, attempt, 1);
    },
    async forget(collectionId, quantity, attempt) {
      await runScript("gateRelease", collectionId, quantity, attempt, 0);
    },
    async remember(collectionId, quantity, attempt) {
      await runScript("gateRemember", collectionId, quantity, attempt);
    },
    async restock(collectionId, quantity, holder) {
      await scripts.gateRestock(key(collectionId), attempts(collectionId), holders(collectionId), quantity, holder);
    },
    async reset(collectionId) {
      await redis.del(key(collectionId), attempts(collectionId), holders(collectionId));
    },
    async close() {
      redis.disconnect();
    },
  };
}

/** The embedded gate: the same counter in this process's memory (one server instance, or no Redis). */
export function createMemoryGate(): AdmissionGate {
  const stock = new Map<number, number>();
  const admitted = new Map<number, Set<string>>();
  const held = new Map<number, Map<string, number>>();
  const seeding = new Map<number, Promise<void>>();
  const recheckDue = soldOutRechecks();

  function keysOf(collectionId: number): Set<string> {
    const keys = admitted.get(collectionId) ?? new Set<string>();
    admitted.set(collectionId, keys);
    return keys;
  }

  function holdersOf(collectionId: number): Map<string, number> {
    const holders = held.get(collectionId) ?? new Map<string, number>();
    held.set(collectionId, holders);
    return holders;
  }

  /** Forgets an admitted attempt and its holder's units; false when the attempt was not admitted. */
  function forgot(collectionId: number, quantity: number, attempt: { key: string; holder: string }): boolean {
    if (admitted.get(collectionId)?.delete(attempt.key) !== true) return false;
    const holders = held.get(collectionId);
    const mine = (holders?.get(attempt.holder) ?? 0) - quantity;
    if (mine > 0) holders!.set(attempt.holder, mine);
    else holders?.delete(attempt.holder);
    return true;
  }

  function take(
    collectionId: number,
    quantity: number,
    attempt: { key: string; holder: string; limit: number },
  ): Admission {
    const keys = keysOf(collectionId);
    if (keys.has(attempt.key)) return "known";
    const left = stock.get(collectionId)!;
    if (left < quantity) return "soldOut";
    const holders = holdersOf(collectionId);
    const mine = holders.get(attempt.holder) ?? 0;
    if (mine + quantity > attempt.limit) return "limitReached";
    stock.set(collectionId, left - quantity);
    keys.add(attempt.key);
    holders.set(attempt.holder, mine + quantity);
    return "admitted";
  }

  return {
    kind: "memory",
    async admit(collectionId, quantity, attempt, availableInDb): Promise<Admission> {
      if (!stock.has(collectionId)) {
        let pending = seeding.get(collectionId);
        if (pending === undefined) {
          pending = availableInDb()
            .then((available) => {
              if (!stock.has(collectionId)) stock.set(collectionId, available);
            })
            .finally(() => seeding.delete(collectionId));
          seeding.set(collectionId, pending);
        }
        await pending;
      }
      let answer: Admission = take(collectionId, quantity, attempt);
      if (answer === "soldOut" && recheckDue(collectionId)) {
        const available = await availableInDb();
        if (available > 0) {
          stock.set(collectionId, available);
          answer = take(collectionId, quantity, attempt);
        }
      }
      return answer;
    },
    async giveBack(collectionId, quantity, attempt) {
      if (!forgot(collectionId, quantity, attempt)) return;
      if (stock.has(collectionId)) stock.set(collectionId, stock.get(collectionId)! + quantity);
    },
    async forget(collectionId, quantity, attempt) {
      forgot(collectionId, quantity, attempt);
    },
    async remember(collectionId, quantity, attempt) {
      const keys = keysOf(collectionId);
      if (keys.has(attempt.key)) return;
      keys.add(attempt.key);
      const holders = holdersOf(collectionId);
      holders.set(attempt.holder, (holders.get(attempt.holder) ?? 0) + quantity);
    },
    async restock(collectionId, quantity, holder) {
      if (stock.has(collectionId)) stock.set(collectionId, stock.get(collectionId)! + quantity);
      const holders = held.get(collectionId);
      const mine = (holders?.get(holder) ?? 0) - quantity;
      if (mine > 0) holders!.set(holder, mine);
      else holders?.delete(holder);
    },
    async reset(collectionId) {
      stock.delete(collectionId);
      admitted.delete(collectionId);
      held.delete(collectionId);
    },
    async close() {},
  };
}
