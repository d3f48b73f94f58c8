import { randomInt } from "node:crypto";

import { type SQL, and, eq, sql } from "drizzle-orm";
import { type RateLimiterAbstract, RateLimiterRes } from "rate-limiter-flexible";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { equalHex, randomToken } from "../../security/crypto.js";
import { memoryLimiters } from "../../security/rate-limits.js";
import {
  CODE_PATTERN,
  type IdentityDependencies,
  type IdentityKeys,
  PHONE_PATTERN,
  type Role,
  type SessionUser,
  sessionLimitsOf,
} from "./model.js";
import { otpChallenges, sessions } from "./tables.js";

/** Phone login: one-time codes sent by SMS, checked against guessing, and spent on a fresh session. */

type EnsureAccount = (db: Db, phone: string, role?: Role, issuerId?: number | null) => Promise<SessionUser>;

/** Spends one point of each limiter in turn; the first one out of points refuses with its wait. */
export async function consumeOrRefuse(...spends: [RateLimiterAbstract, string][]) {
  try {
    for (const [limiter, key] of spends) await limiter.consume(key);
  } catch (error) {
    if (error instanceof RateLimiterRes) {
      throw new AppError("auth.rateLimited", { retryAfterSeconds: Math.ceil(error.msBeforeNext / 1000) });
    }
    throw error;
  }
}

/** Refuses while the phone's challenge is locked after too many wrong codes. */
export function refuseIfLocked(challenge: { lockedUntil: Date | null } | undefined, now: Date) {
  if (challenge?.lockedUntil && challenge.lockedUntil > now) {
    throw new AppError("auth.locked", {
      retryAfterSeconds: Math.ceil((challenge.lockedUntil.getTime() - now.getTime()) / 1000),
    });
  }
}

export async function challengeOf(db: Db, hash: string) {
  const [challenge] = await db.select().from(otpChallenges).where(eq(otpChallenges.phoneHash, hash));
  return challenge;
}

/** The challenge changed since it was read (a lock, or another login spent the code): why the code no longer works. */
export async function refuseStale(db: Db, hash: string, now: Date): Promise<never> {
  refuseIfLocked(await challengeOf(db, hash), now);
  throw new AppError("auth.code.expired");
}

/** Counts a wrong code, locking the phone at the limit, and refuses with what is left. */
async function refuseWrongCode(
  deps: Pick<IdentityDependencies, "otpMaxFailures" | "otpLockMinutes">,
  db: Db,
  hash: string,
  sameCode: SQL | undefined,
  now: Date,
): Promise<never> {
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
  if (counted === undefined) return refuseStale(db, hash, now);
  if (counted.codeHash === null) throw new AppError("auth.locked", { retryAfterSeconds: deps.otpLockMinutes * 60 });
  throw new AppError("auth.code.wrong", { attemptsLeft: deps.otpMaxFailures - counted.failures });
}

/** The SMS-code limits, shared by login and step-up codes (one daily allowance per number, one per address). */
export function createCodeLimiters(deps: IdentityDependencies) {
  const limiter = deps.limiters ?? memoryLimiters;
  return {
    /** Keyed by phone hash for login codes, by phone hash and purpose for step-up codes. */
    resend: limiter({ keyPrefix: "otp-resend", points: 1, duration: deps.otpResendSeconds }),
    daily: limiter({ keyPrefix: "otp-daily", points: deps.otpDailyLimitPerPhone, duration: 86_400 }),
    ip: limiter({ keyPrefix: "otp-ip", points: deps.otpHourlyLimitPerIp, duration: 3600 }),
    loginIp: limiter({ keyPrefix: "login-ip", points: deps.loginAttemptsPerIp15Min, duration: 900 }),
  };
}

export type CodeLimiters = ReturnType<typeof createCodeLimiters>;

/** A new 6-digit code. */
export const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, "0");

export function createLogin(
  deps: IdentityDependencies,
  keys: IdentityKeys,
  ensureAccount: EnsureAccount,
  limits: CodeLimiters,
) {
  const { resend: resendLimiter, daily: dailyLimiter, ip: ipLimiter, loginIp: loginIpLimiter } = limits;

  return {
    async requestCode(db: Db, { phone, ip }: { phone: string; ip: string }) {
      if (!PHONE_PATTERN.test(phone)) throw new AppError("auth.phone.invalid");
      const hash = keys.phoneHash(phone);
      const now = deps.clock();
      refuseIfLocked(await challengeOf(db, hash), now);
      await consumeOrRefuse([ipLimiter, ip], [resendLimiter, hash], [dailyLimiter, hash]);
      const code = newCode();
      const values = {
        codeHash: keys.codeHash(hash, code),
        expiresAt: new Date(now.getTime() + deps.otpTtlSeconds * 1000),
        sentAt: now,
        lockedUntil: null,
      };
      await db
        .insert(otpChallenges)
        .values({ phoneHash: hash, ...values })
        .onConflictDoUpdate({ target: otpChallenges.phoneHash, set: values });
      // A provider that refuses or does not answer is a clear "try again later", never a 500 (nor the code in a log).
      await deps.sms.sendLoginCode(phone, code, Math.round(deps.otpTtlSeconds / 60)).catch(() => {
        throw new AppError("auth.smsUnavailable");
      });
      return { resendAfterSeconds: deps.otpResendSeconds, ttlSeconds: deps.otpTtlSeconds };
    },

    async login(
      db: Db,
      { phone, code, userAgent, ip }: { phone: string; code: string; ip: string; userAgent: string },
    ) {
      if (!PHONE_PATTERN.test(phone)) throw new AppError("auth.phone.invalid");
      if (!CODE_PATTERN.test(code)) throw new AppError("auth.code.invalid");
      await consumeOrRefuse([loginIpLimiter, ip]);
      const hash = keys.phoneHash(phone);
      const now = deps.clock();
      const challenge = await challengeOf(db, hash);
      refuseIfLocked(challenge, now);
      if (!challenge?.codeHash || !challenge.expiresAt || challenge.expiresAt <= now) {
        throw new AppError("auth.code.expired");
      }
      // Both outcomes write only while the row still holds the code that was checked, and count in the
      // statement itself: concurrent guesses each count, and none can spend a code a lock has removed.
      const sameCode = and(eq(otpChallenges.phoneHash, hash), eq(otpChallenges.codeHash, challenge.codeHash));
      if (!equalHex(challenge.codeHash, keys.codeHash(hash, code)))
        return refuseWrongCode(deps, db, hash, sameCode, now);
      // The code is spent whatever happens next.
      const spent = await db
        .update(otpChallenges)
        .set({ codeHash: null, expiresAt: null, failures: 0 })
        .where(sameCode)
        .returning({ phoneHash: otpChallenges.phoneHash });
      if (spent.length === 0) return refuseStale(db, hash, now);
      const user = await ensureAccount(db, phone);
      if (user.status !== "active") throw new AppError("account.erased");
      const token = randomToken();
      await db.insert(sessions).values({
        id: keys.sessionIdOf(token),
        userId: user.id,
        userAgent: userAgent.slice(0, 300),
        createdAt: now,
        lastSeenAt: now,
        expiresAt: new Date(now.getTime() + sessionLimitsOf(deps.sessionPolicy, user.role).lifetimeMs),
      });
      return { token, user };
    },
  };
}
