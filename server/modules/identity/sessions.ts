import { and, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";

import { createBatcher, perDatabase } from "../../batching.js";
import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import {
  type IdentityDependencies,
  type IdentityKeys,
  type ResolvedSession,
  sessionLimitsOf,
  toSessionUser,
} from "./model.js";
import { sessions, users } from "./tables.js";

const SESSION_TOUCH_MS = 5 * 60_000;

/**
 * The lookup every request makes, prepared once per database handle: building this select costs drizzle about
 * 120 µs each time, a quarter of a flash-sale attempt's CPU. One array parameter, however many tokens a crowd's
 * batch carries. It reads only the columns a request's session needs: not the phone's ciphertext, and two
 * timestamps of seven (each one parsed into a Date per row).
 */
function prepareLiveSessions(db: Db) {
  return db
    .select({
      session: { id: sessions.id, createdAt: sessions.createdAt, lastSeenAt: sessions.lastSeenAt },
      user: {
        id: users.id,
        role: users.role,
        issuerId: users.issuerId,
        phoneMasked: users.phoneMasked,
        status: users.status,
      },
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        sql`${sessions.id} = any(${sql.placeholder("ids")}::text[])`,
        isNull(sessions.revokedAt),
        sql`${sessions.expiresAt} > ${sql.placeholder("now")}::timestamptz`,
      ),
    )
    .prepare("identity_live_sessions");
}
const liveSessionsOf = perDatabase(prepareLiveSessions);

/** How long touches wait in memory to be written together, and how many waiting start a write at once. */
const TOUCH_WRITE_MS = 1000;
const TOUCHES_PER_WRITE = 5000;

/**
 * Touches (a session's `last_seen_at`, for its idle limit) are kept in this process's memory and written
 * together once a second, by one statement, off the request's path: a crowd arriving at a drop, each of them
 * last seen hours ago, used to add a touch statement to every lookup batch (a third of the sale's statements).
 * The lookups of this process read the touches not yet written, so its idle limits hold exactly; another
 * instance sees them within a second, against a touch interval of minutes. The statement's commit does not wait
 * for its WAL to reach the disk (`synchronous_commit` off for this transaction only), and a touch lost (to a
 * crash, a failed write) only lets an idle limit start a little earlier.
 */
const touchesOf = perDatabase((db: Db) => {
  const statement = db
    .update(sessions)
    .set({ lastSeenAt: sql`${sql.placeholder("now")}::timestamptz` })
    .where(
      and(
        sql`${sessions.id} = any(${sql.placeholder("ids")}::text[])`,
        sql`set_config('synchronous_commit', 'off', true) is not null`,
      ),
    )
    .prepare("identity_touch_sessions");
  /** Session id → when it was last seen, not yet written; and those being written. */
  let waiting = new Map<string, number>();
  let writing = new Map<string, number>();
  let timer: NodeJS.Timeout | null = null;

  async function write() {
    timer = null;
    if (writing.size > 0 || waiting.size === 0) return;
    [writing, waiting] = [waiting, new Map()];
    try {
      const at = Math.max(...writing.values());
      await statement.execute({ ids: [...writing.keys()], now: new Date(at).toISOString() });
    } catch {
      // Lost: those sessions' idle limits run from the touch before.
    } finally {
      writing = new Map();
      if (waiting.size > 0) schedule();
    }
  }
  function schedule() {
    if (timer !== null && waiting.size < TOUCHES_PER_WRITE) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => void write(), waiting.size >= TOUCHES_PER_WRITE ? 0 : TOUCH_WRITE_MS);
    timer.unref();
  }
  return {
    /** When the session was last seen according to the touches not yet written, if any. */
    seenAt: (id: string): number | undefined => waiting.get(id) ?? writing.get(id),
    touch(ids: readonly string[], at: number) {
      for (const id of ids) waiting.set(id, at);
      schedule();
    },
  };
});

/**
 * The live sessions among `tokens`, in one query; touches the ones not seen for a while. A session past its
 * absolute lifetime or idle for longer than its role allows (the role held now: a collector promoted to
 * operator gets the operator's limits at the next request) is ended.
 */
async function resolveSessions(
  deps: Pick<IdentityDependencies, "clock" | "sessionPolicy">,
  keys: IdentityKeys,
  db: Db,
  tokens: readonly string[],
): Promise<Map<string, ResolvedSession>> {
  const byId = new Map<string, string>();
  for (const token of tokens) if (token.length >= 20 && token.length <= 100) byId.set(keys.sessionIdOf(token), token);
  const found = new Map<string, ResolvedSession>();
  if (byId.size === 0) return found;
  const now = deps.clock();
  const rows = await liveSessionsOf(db).execute({ ids: [...byId.keys()], now: now.toISOString() });
  const touches = touchesOf(db);
  const stale: string[] = [];
  const lapsed: string[] = [];
  for (const row of rows) {
    if (row.user.status !== "active") continue;
    const limits = sessionLimitsOf(deps.sessionPolicy, row.user.role);
    const lastSeen = Math.max(row.session.lastSeenAt.getTime(), touches.seenAt(row.session.id) ?? 0);
    if (
      now.getTime() - row.session.createdAt.getTime() >= limits.lifetimeMs ||
      now.getTime() - lastSeen >= limits.idleMs
    ) {
      lapsed.push(row.session.id);
      continue;
    }
    found.set(byId.get(row.session.id)!, { sessionId: row.session.id, user: toSessionUser(row.user) });
    // Touched often enough that the idle limit holds to within a sixth of it (at most 5 minutes).
    const touchMs = Math.min(SESSION_TOUCH_MS, limits.idleMs / 6);
    if (now.getTime() - lastSeen > touchMs) stale.push(row.session.id);
  }
  if (lapsed.length > 0)
    await db
      .update(sessions)
      .set({ revokedAt: now })
      .where(and(inArray(sessions.id, lapsed), isNull(sessions.revokedAt)));
  if (stale.length > 0) touches.touch(stale, now.getTime());
  return found;
}

/** Sessions: resolving a request's token, listing and revoking them. */
export function createSessions(deps: Pick<IdentityDependencies, "clock" | "sessionPolicy">, keys: IdentityKeys) {
  const resolveMany = (db: Db, tokens: readonly string[]) => resolveSessions(deps, keys, db, tokens);

  // Every request resolves its session; a crowd's requests share one query per batch (never a cache, so a
  // logout or a revocation holds from the next request on, on every instance).
  const sessionLookups = perDatabase((db: Db) =>
    createBatcher(
      async (tokens: string[]) => {
        const found = await resolveMany(db, tokens);
        return tokens.map((token) => ({ ok: true as const, value: found.get(token) ?? null }));
      },
      // Two at once: one batch can wait for its touches while the next reads; a crowd's lookups gather 4 ms.
      { maxBatch: 500, maxInFlight: 2, minIntervalMs: 4 },
    ),
  );

  return {
    resolveSession: (db: Db, token: string) => sessionLookups(db)(token),

    resolveSessions: resolveMany,

    async logout(db: Db, sessionId: string) {
      await db.update(sessions).set({ revokedAt: deps.clock() }).where(eq(sessions.id, sessionId));
    },

    async listSessions(db: Db, userId: number) {
      return db
        .select({
          id: sessions.id,
          userAgent: sessions.userAgent,
          createdAt: sessions.createdAt,
          lastSeenAt: sessions.lastSeenAt,
          expiresAt: sessions.expiresAt,
        })
        .from(sessions)
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, deps.clock())))
        .orderBy(desc(sessions.lastSeenAt));
    },

    async revokeSession(db: Db, userId: number, sessionId: string) {
      const revoked = await db
        .update(sessions)
        .set({ revokedAt: deps.clock() })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      if (revoked.length === 0) throw new AppError("auth.session.notFound");
    },

    async revokeAllSessions(db: Db, userId: number) {
      await db
        .update(sessions)
        .set({ revokedAt: deps.clock() })
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
    },
  };
}
