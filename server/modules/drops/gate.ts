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
export type Admission = "admitted" | "soldOut";

export interface AdmissionGate {
  readonly kind: "redis" | "memory";
  /**
   * Takes `quantity` from the collection's counter when it has that many, remembering `attemptKey`
   * so a retry of an admitted attempt is admitted again without taking more; `availableInDb` seeds it.
   */
  admit(
    collectionId: number,
    quantity: number,
    attemptKey: string,
    availableInDb: () => Promise<number>,
  ): Promise<Admission>;
  /** Gives back what an admitted attempt did not take (the database refused it). */
  giveBack(collectionId: number, quantity: number, attemptKey: string): Promise<void>;
  /** Forgets a collection's counter, so the next attempt seeds it from the database. */
  reset(collectionId: number): Promise<void>;
  close(): Promise<void>;
}

const SOLD_OUT_RECHECK_MS = 1000;

// KEYS[1] the counter, KEYS[2] the admitted attempts; ARGV[1] quantity, ARGV[2] attempt key.
// -1: no counter yet, 0: not enough, 1: taken (or taken before by the same attempt).
const ADMIT = `
if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then return 1 end
local stock = redis.call('GET', KEYS[1])
if not stock then return -1 end
if tonumber(stock) < tonumber(ARGV[1]) then return 0 end
redis.call('DECRBY', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 1`;

const GIVE_BACK = `
if redis.call('SREM', KEYS[2], ARGV[2]) == 1 and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], ARGV[1])
end
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

export function createRedisGate(url: string): AdmissionGate {
  const redis = new Redis(url, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  const key = (id: number) => `shuzang:gate:${id}:stock`;
  const attempts = (id: number) => `shuzang:gate:${id}:admitted`;
  const recheckDue = soldOutRechecks();
  const take = async (collectionId: number, quantity: number, attemptKey: string) =>
    Number(await redis.eval(ADMIT, 2, key(collectionId), attempts(collectionId), quantity, attemptKey));

  return {
    kind: "redis",
    async admit(collectionId, quantity, attemptKey, availableInDb) {
      let answer = await take(collectionId, quantity, attemptKey);
      if (answer === -1) {
        await redis.set(key(collectionId), await availableInDb(), "NX");
        answer = await take(collectionId, quantity, attemptKey);
      }
      if (answer === 0 && recheckDue(collectionId)) {
        const available = await availableInDb();
        if (available > 0) {
          await redis.set(key(collectionId), available);
          answer = await take(collectionId, quantity, attemptKey);
        }
      }
      return answer === 1 ? "admitted" : "soldOut";
    },
    async giveBack(collectionId, quantity, attemptKey) {
      await redis.eval(GIVE_BACK, 2, key(collectionId), attempts(collectionId), quantity, attemptKey);
    },
    async reset(collectionId) {
      await redis.del(key(collectionId), attempts(collectionId));
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
  const seeding = new Map<number, Promise<void>>();
  const recheckDue = soldOutRechecks();

  function take(collectionId: number, quantity: number, attemptKey: string): Admission {
    const keys = admitted.get(collectionId) ?? new Set<string>();
    admitted.set(collectionId, keys);
    if (keys.has(attemptKey)) return "admitted";
    const left = stock.get(collectionId)!;
    if (left < quantity) return "soldOut";
    stock.set(collectionId, left - quantity);
    keys.add(attemptKey);
    return "admitted";
  }

  return {
    kind: "memory",
    async admit(collectionId, quantity, attemptKey, availableInDb) {
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
      let answer = take(collectionId, quantity, attemptKey);
      if (answer === "soldOut" && recheckDue(collectionId)) {
        const available = await availableInDb();
        if (available > 0) {
          stock.set(collectionId, available);
          answer = take(collectionId, quantity, attemptKey);
        }
      }
      return answer;
    },
    async giveBack(collectionId, quantity, attemptKey) {
      if (admitted.get(collectionId)?.delete(attemptKey) === true && stock.has(collectionId)) {
        stock.set(collectionId, stock.get(collectionId)! + quantity);
      }
    },
    async reset(collectionId) {
      stock.delete(collectionId);
      admitted.delete(collectionId);
    },
    async close() {},
  };
}
