import { and, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";

import { createBatcher, perDatabase } from "../../batching.js";
import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { type IdentityDependencies, type IdentityKeys, type ResolvedSession, toSessionUser } from "./model.js";
import { sessions, users } from "./tables.js";

const SESSION_TOUCH_MS = 5 * 60_000;

/** The live sessions among `tokens`, in one query; touches the ones not seen for a while. */
async function resolveSessions(
  deps: Pick<IdentityDependencies, "clock">,
  keys: IdentityKeys,
  db: Db,
  tokens: readonly string[],
): Promise<Map<string, ResolvedSession>> {
  const byId = new Map<string, string>();
  for (const token of tokens) if (token.length >= 20 && token.length <= 100) byId.set(keys.sessionIdOf(token), token);
  const found = new Map<string, ResolvedSession>();
  if (byId.size === 0) return found;
  const now = deps.clock();
  const rows = await db
    .select({ session: sessions, user: users })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(
      and(
        // One array parameter, however many tokens a crowd's batch carries.
        sql`${sessions.id} = any(${sql.param([...byId.keys()])}::text[])`,
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
      ),
    );
  const stale: string[] = [];
  for (const row of rows) {
    if (row.user.status !== "active") continue;
    found.set(byId.get(row.session.id)!, { sessionId: row.session.id, user: toSessionUser(row.user) });
    if (now.getTime() - row.session.lastSeenAt.getTime() > SESSION_TOUCH_MS) stale.push(row.session.id);
  }
  if (stale.length > 0) await db.update(sessions).set({ lastSeenAt: now }).where(inArray(sessions.id, stale));
  return found;
}

/** Sessions: resolving a request's token, listing and revoking them. */
export function createSessions(deps: Pick<IdentityDependencies, "clock">, keys: IdentityKeys) {
  const resolveMany = (db: Db, tokens: readonly string[]) => resolveSessions(deps, keys, db, tokens);

  // Every request resolves its session; a crowd's requests share one query per batch (never a cache, so a
  // logout or a revocation holds from the next request on, on every instance).
  const sessionLookups = perDatabase((db: Db) =>
    createBatcher(
      async (tokens: string[]) => {
        const found = await resolveMany(db, tokens);
        return tokens.map((token) => ({ ok: true as const, value: found.get(token) ?? null }));
      },
      { maxBatch: 500, maxInFlight: 4 },
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
