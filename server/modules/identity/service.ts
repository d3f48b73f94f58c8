import { randomInt } from "node:crypto";

import { and, desc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import { RateLimiterRes } from "rate-limiter-flexible";

import { createBatcher, perDatabase } from "../../batching.js";
import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { otpChallenges, sessions, users } from "./tables.js";
import { AppError } from "../../errors.js";
import type { SmsProvider } from "../../providers/sms/types.js";
import { type Sealer, equalHex, hmacHex, randomToken } from "../../security/crypto.js";
import { type Limiters, memoryLimiters } from "../../security/rate-limits.js";

/**
 * Accounts, phone login with one-time codes, sessions and roles. Phone
 * numbers are personal data: the table keeps an HMAC for lookups, the
 * number sealed for the person's own export, and a masked form for display.
 */

export type Role = "collector" | "issuer_staff" | "operator";

export interface SessionUser {
  id: number;
  role: Role;
  issuerId: number | null;
  phoneMasked: string;
  status: "active" | "erasure_requested";
}

export interface ResolvedSession {
  sessionId: string;
  user: SessionUser;
}

export interface IdentityDependencies {
  sms: SmsProvider;
  sealer: Sealer;
  lookupPepper: string;
  clock: () => Date;
  otpTtlSeconds: number;
  otpMaxFailures: number;
  otpLockMinutes: number;
  otpResendSeconds: number;
  otpDailyLimitPerPhone: number;
  otpHourlyLimitPerIp: number;
  loginAttemptsPerIp15Min: number;
  sessionTtlDays: number;
  /** Where the login-code and login-attempt limits count (memory by default; Redis shares them across instances). */
  limiters?: Limiters;
}

export const PHONE_PATTERN = /^1[3-9]\d{9}$/;
export const CODE_PATTERN = /^\d{6}$/;

export function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
}

export interface IdentityService {
  requestCode(
    db: Db,
    input: { phone: string; ip: string },
  ): Promise<{ resendAfterSeconds: number; ttlSeconds: number }>;
  /** Checks the code; on success creates the account if new and a fresh session (never reuses one). */
  login(
    db: Db,
    input: { phone: string; code: string; ip: string; userAgent: string },
  ): Promise<{ token: string; user: SessionUser }>;
  resolveSession(db: Db, token: string): Promise<ResolvedSession | null>;
  /** The live sessions among `tokens`, in one query (the flash-sale route resolves its crowd in batches). */
  resolveSessions(db: Db, tokens: readonly string[]): Promise<Map<string, ResolvedSession>>;
  logout(db: Db, sessionId: string): Promise<void>;
  listSessions(
    db: Db,
    userId: number,
  ): Promise<{ id: string; userAgent: string; createdAt: Date; lastSeenAt: Date; expiresAt: Date }[]>;
  revokeSession(db: Db, userId: number, sessionId: string): Promise<void>;
  revokeAllSessions(db: Db, userId: number): Promise<void>;
  /** Finds or creates the account of `phone` (seeding, airdrop lists). */
  ensureAccount(db: Db, phone: string, role?: Role, issuerId?: number | null): Promise<SessionUser>;
  findAccountByPhone(db: Db, phone: string): Promise<SessionUser | null>;
  findAccountById(db: Db, userId: number): Promise<SessionUser | null>;
  exportAccount(db: Db, userId: number): Promise<{ phone: string; role: Role; createdAt: Date } | null>;
  markErasureRequested(db: Db, userId: number): Promise<void>;
  /** Suspends or restores an account's gifting (flagged for off-platform resale). */
  setGiftingSuspended(db: Db, userId: number, suspended: boolean): Promise<boolean>;
  isGiftingSuspended(db: Db, userId: number): Promise<boolean>;
  /** Makes the account staff of issuer `issuerId` (its application was approved). */
  assignIssuerStaff(db: Db, userId: number, issuerId: number): Promise<void>;
  /** Makes the account of `phone` a platform operator (creating it if needed); audited by the caller. */
  grantOperator(db: Db, phone: string): Promise<{ user: SessionUser; changed: boolean }>;
  /** A public, stable session id for a token (what the table stores). */
  sessionIdOf(token: string): string;
}

const SESSION_TOUCH_MS = 5 * 60_000;

function rateLimited(error: unknown): error is RateLimiterRes {
  return error instanceof RateLimiterRes;
}

export function createIdentityService(deps: IdentityDependencies): IdentityService {
  const phoneHash = (phone: string) => hmacHex(deps.lookupPepper, `phone:${phone}`);
  const codeHash = (hashOfPhone: string, code: string) => hmacHex(deps.lookupPepper, `otp:${hashOfPhone}:${code}`);
  const sessionIdOf = (token: string) => hmacHex(deps.lookupPepper, `session:${token}`);

  const limiter = deps.limiters ?? memoryLimiters;
  const resendLimiter = limiter({ keyPrefix: "otp-resend", points: 1, duration: deps.otpResendSeconds });
  const dailyLimiter = limiter({
    keyPrefix: "otp-daily",
    points: deps.otpDailyLimitPerPhone,
    duration: 86_400,
  });
  const ipLimiter = limiter({ keyPrefix: "otp-ip", points: deps.otpHourlyLimitPerIp, duration: 3600 });
  const loginIpLimiter = limiter({
    keyPrefix: "login-ip",
    points: deps.loginAttemptsPerIp15Min,
    duration: 900,
  });

  const toSessionUser = (row: typeof users.$inferSelect): SessionUser => ({
    id: row.id,
    role: row.role,
    issuerId: row.issuerId,
    phoneMasked: row.phoneMasked,
    status: row.status,
  });

  async function ensureAccount(db: Db, phone: string, role: Role = "collector", issuerId: number | null = null) {
    const hash = phoneHash(phone);
    const [existing] = await db.select().from(users).where(eq(users.phoneHash, hash));
    if (existing !== undefined) return toSessionUser(existing);
    try {
      return await db.transaction(async (tx) => {
        const [created] = await tx
          .insert(users)
          .values({ phoneHash: hash, phoneCipher: "pending", phoneMasked: maskPhone(phone), role, issuerId })
          .returning();
        // The user id is part of the sealing context, so the number is sealed once the id exists.
        await tx
          .update(users)
          .set({ phoneCipher: deps.sealer.seal(phone, `user.phone:${created!.id}`) })
          .where(eq(users.id, created!.id));
        return toSessionUser(created!);
      });
    } catch (error) {
      if (violatedUniqueConstraint(error) !== "users_phone_hash_key") throw error;
      const [raced] = await db.select().from(users).where(eq(users.phoneHash, hash));
      return toSessionUser(raced!);
    }
  }

  async function resolveSessions(db: Db, tokens: readonly string[]): Promise<Map<string, ResolvedSession>> {
    const byId = new Map<string, string>();
    for (const token of tokens) if (token.length >= 20 && token.length <= 100) byId.set(sessionIdOf(token), token);
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

  // Every request resolves its session; a crowd's requests share one query per batch (never a cache, so a
  // logout or a revocation holds from the next request on, on every instance).
  const sessionLookups = perDatabase((db: Db) =>
    createBatcher(
      async (tokens: string[]) => {
        const found = await resolveSessions(db, tokens);
        return tokens.map((token) => ({ ok: true as const, value: found.get(token) ?? null }));
      },
      { maxBatch: 500, maxInFlight: 4 },
    ),
  );

  return {
    sessionIdOf,
    ensureAccount,

    async findAccountByPhone(db, phone) {
      const [row] = await db
        .select()
        .from(users)
        .where(eq(users.phoneHash, phoneHash(phone)));
      return row === undefined ? null : toSessionUser(row);
    },

    async findAccountById(db, userId) {
      const [row] = await db.select().from(users).where(eq(users.id, userId));
      return row === undefined ? null : toSessionUser(row);
    },

    async requestCode(db, { phone, ip }) {
      if (!PHONE_PATTERN.test(phone)) throw new AppError("auth.phone.invalid");
      const hash = phoneHash(phone);
      const now = deps.clock();
      const [challenge] = await db.select().from(otpChallenges).where(eq(otpChallenges.phoneHash, hash));
      if (challenge?.lockedUntil && challenge.lockedUntil > now) {
        throw new AppError("auth.locked", {
          retryAfterSeconds: Math.ceil((challenge.lockedUntil.getTime() - now.getTime()) / 1000),
        });
      }
      try {
        await ipLimiter.consume(ip);
        await resendLimiter.consume(hash);
        await dailyLimiter.consume(hash);
      } catch (error) {
        if (rateLimited(error)) {
          throw new AppError("auth.rateLimited", { retryAfterSeconds: Math.ceil(error.msBeforeNext / 1000) });
        }
        throw error;
      }
      const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
      const values = {
        codeHash: codeHash(hash, code),
        expiresAt: new Date(now.getTime() + deps.otpTtlSeconds * 1000),
        sentAt: now,
        lockedUntil: null,
      };
      await db
        .insert(otpChallenges)
        .values({ phoneHash: hash, ...values })
        .onConflictDoUpdate({ target: otpChallenges.phoneHash, set: values });
      await deps.sms.sendLoginCode(phone, code, Math.round(deps.otpTtlSeconds / 60));
      return { resendAfterSeconds: deps.otpResendSeconds, ttlSeconds: deps.otpTtlSeconds };
    },

    async login(db, { phone, code, ip, userAgent }) {
      if (!PHONE_PATTERN.test(phone)) throw new AppError("auth.phone.invalid");
      if (!CODE_PATTERN.test(code)) throw new AppError("auth.code.invalid");
      try {
        await loginIpLimiter.consume(ip);
      } catch (error) {
        if (rateLimited(error)) {
          throw new AppError("auth.rateLimited", { retryAfterSeconds: Math.ceil(error.msBeforeNext / 1000) });
        }
        throw error;
      }
      const hash = phoneHash(phone);
      const now = deps.clock();
      const [challenge] = await db.select().from(otpChallenges).where(eq(otpChallenges.phoneHash, hash));
      if (challenge?.lockedUntil && challenge.lockedUntil > now) {
        throw new AppError("auth.locked", {
          retryAfterSeconds: Math.ceil((challenge.lockedUntil.getTime() - now.getTime()) / 1000),
        });
      }
      if (!challenge?.codeHash || !challenge.expiresAt || challenge.expiresAt <= now) {
        throw new AppError("auth.code.expired");
      }
      // Both outcomes write only while the row still holds the code that was checked, and count in the
      // statement itself: concurrent guesses each count, and none can spend a code a lock has removed.
      const sameCode = and(eq(otpChallenges.phoneHash, hash), eq(otpChallenges.codeHash, challenge.codeHash));
      const refuseStale = async (): Promise<never> => {
        const [current] = await db.select().from(otpChallenges).where(eq(otpChallenges.phoneHash, hash));
        if (current?.lockedUntil && current.lockedUntil > now) {
          throw new AppError("auth.locked", {
            retryAfterSeconds: Math.ceil((current.lockedUntil.getTime() - now.getTime()) / 1000),
          });
        }
        throw new AppError("auth.code.expired");
      };
      if (!equalHex(challenge.codeHash, codeHash(hash, code))) {
        const reachesLimit = sql`${otpChallenges.failures} + 1 >= ${deps.otpMaxFailures}`;
        const lockedUntil = new Date(now.getTime() + deps.otpLockMinutes * 60_000).toISOString();
        const [counted] = await db
          .update(otpChallenges)
          .set({
            failures: sql`case when ${reachesLimit} then 0 else ${otpChallenges.failures} + 1 end`,
            codeHash: sql`case when ${reachesLimit} then null else ${otpChallenges.codeHash} end`,
            expiresAt: sql`case when ${reachesLimit} then null else ${otpChallenges.expiresAt} end`,
            lockedUntil: sql`case when ${reachesLimit} then ${lockedUntil}::timestamptz else ${otpChallenges.lockedUntil} end`,
          })
          .where(sameCode)
          .returning({ failures: otpChallenges.failures, codeHash: otpChallenges.codeHash });
        if (counted === undefined) return refuseStale();
        if (counted.codeHash === null)
          throw new AppError("auth.locked", { retryAfterSeconds: deps.otpLockMinutes * 60 });
        throw new AppError("auth.code.wrong", { attemptsLeft: deps.otpMaxFailures - counted.failures });
      }
      // The code is spent whatever happens next.
      const spent = await db
        .update(otpChallenges)
        .set({ codeHash: null, expiresAt: null, failures: 0 })
        .where(sameCode)
        .returning({ phoneHash: otpChallenges.phoneHash });
      if (spent.length === 0) return refuseStale();
      const user = await ensureAccount(db, phone);
      if (user.status !== "active") throw new AppError("account.erased");
      const token = randomToken();
      await db.insert(sessions).values({
        id: sessionIdOf(token),
        userId: user.id,
        userAgent: userAgent.slice(0, 300),
        expiresAt: new Date(now.getTime() + deps.sessionTtlDays * 86_400_000),
      });
      return { token, user };
    },

    resolveSession: (db, token) => sessionLookups(db)(token),

    resolveSessions,

    async logout(db, sessionId) {
      await db.update(sessions).set({ revokedAt: deps.clock() }).where(eq(sessions.id, sessionId));
    },

    async listSessions(db, userId) {
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

    async revokeSession(db, userId, sessionId) {
      const revoked = await db
        .update(sessions)
        .set({ revokedAt: deps.clock() })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id });
      if (revoked.length === 0) throw new AppError("auth.session.notFound");
    },

    async revokeAllSessions(db, userId) {
      await db
        .update(sessions)
        .set({ revokedAt: deps.clock() })
        .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
    },

    async exportAccount(db, userId) {
      const [row] = await db.select().from(users).where(eq(users.id, userId));
      if (row === undefined) return null;
      return {
        phone: deps.sealer.open(row.phoneCipher, `user.phone:${row.id}`),
        role: row.role,
        createdAt: row.createdAt,
      };
    },

    async setGiftingSuspended(db, userId, suspended) {
      const updated = await db
        .update(users)
        .set({ giftingSuspendedAt: suspended ? deps.clock() : null })
        .where(eq(users.id, userId))
        .returning({ id: users.id });
      return updated.length > 0;
    },

    async isGiftingSuspended(db, userId) {
      const [row] = await db.select({ at: users.giftingSuspendedAt }).from(users).where(eq(users.id, userId));
      return row?.at != null;
    },

    async grantOperator(db, phone) {
      const account = await ensureAccount(db, phone, "operator");
      if (account.role === "operator") return { user: account, changed: false };
      await db.update(users).set({ role: "operator", issuerId: null }).where(eq(users.id, account.id));
      return { user: { ...account, role: "operator", issuerId: null }, changed: true };
    },

    async assignIssuerStaff(db, userId, issuerId) {
      await db.update(users).set({ role: "issuer_staff", issuerId }).where(eq(users.id, userId));
    },

    async markErasureRequested(db, userId) {
      await db
        .update(users)
        .set({ status: "erasure_requested", erasureRequestedAt: deps.clock() })
        .where(eq(users.id, userId));
    },
  };
}
