import { and, eq, gt, inArray, isNull, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { equalHex } from "../../security/crypto.js";
import { type CodeLimiters, challengeOf, consumeOrRefuse, newCode, refuseIfLocked, refuseStale } from "./login.js";
import {
  CODE_PATTERN,
  type IdentityDependencies,
  type IdentityKeys,
  type ResolvedSession,
  SINGLE_USE_STEP_UPS,
  type StepUpPurpose,
} from "./model.js";
import { otpChallenges, sessions, stepUps, users } from "./tables.js";

/**
 * Step-up: a live session asks for a fresh SMS code to its account's own number before a sensitive action
 * (data export, gift, KYC submission), confirms it, and may then do that action — in this session only,
 * for this purpose only, for `stepUpWindowMinutes`, and once only for single-use purposes (gifts).
 *
 * The grant lives in the database against the session, not in a token the client carries: nothing to leak
 * into a log or a URL, nothing to hand to another session, and a logout or a revocation ends it with the
 * session. Codes are hashed with the session and the purpose, so a login code never confirms a step-up and a
 * step-up code never logs in; wrong codes count on the number's one lockout counter, the login's.
 */

type StepUpDeps = Pick<
  IdentityDependencies,
  "clock" | "sms" | "sealer" | "otpTtlSeconds" | "otpResendSeconds" | "otpMaxFailures" | "otpLockMinutes"
> &
  Pick<IdentityDependencies, "stepUpWindowMinutes">;

async function accountOf(db: Db, userId: number) {
  const [account] = await db
    .select({ id: users.id, phoneHash: users.phoneHash, phoneCipher: users.phoneCipher })
    .from(users)
    .where(eq(users.id, userId));
  if (account === undefined) throw new AppError("auth.required");
  return account;
}

const rowOf = (sessionId: string, purpose: StepUpPurpose) =>
  and(eq(stepUps.sessionId, sessionId), eq(stepUps.purpose, purpose));

/**
 * Counts a wrong step-up code on the number's lockout counter (the one login codes count on): at the limit
 * the number is locked, its login code and every pending step-up code of its sessions are void.
 */
async function refuseWrongStepUpCode(
  deps: StepUpDeps,
  db: Db,
  account: { id: number; phoneHash: string },
  now: Date,
): Promise<never> {
  const lockedUntil = new Date(now.getTime() + deps.otpLockMinutes * 60_000);
  const reachesLimit = sql`${otpChallenges.failures} + 1 >= ${deps.otpMaxFailures}`;
  const lockedAtOnce = deps.otpMaxFailures <= 1;
  const counted = await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(otpChallenges)
      .values({
        phoneHash: account.phoneHash,
        failures: lockedAtOnce ? 0 : 1,
        lockedUntil: lockedAtOnce ? lockedUntil : null,
      })
      .onConflictDoUpdate({
        target: otpChallenges.phoneHash,
        set: {
          failures: sql`case when ${reachesLimit} then 0 else ${otpChallenges.failures} + 1 end`,
          codeHash: sql`case when ${reachesLimit} then null else ${otpChallenges.codeHash} end`,
          expiresAt: sql`case when ${reachesLimit} then null else ${otpChallenges.expiresAt} end`,
          lockedUntil: sql`case when ${reachesLimit} then ${lockedUntil.toISOString()}::timestamptz else ${otpChallenges.lockedUntil} end`,
        },
      })
      .returning({ failures: otpChallenges.failures });
    // Failures fall back to 0 only when this guess reached the limit.
    if (row!.failures === 0) {
      const ofAccount = tx.select({ id: sessions.id }).from(sessions).where(eq(sessions.userId, account.id));
      await tx
        .update(stepUps)
        .set({ codeHash: null, codeExpiresAt: null })
        .where(inArray(stepUps.sessionId, ofAccount));
    }
    return row!;
  });
  if (counted.failures === 0) throw new AppError("auth.locked", { retryAfterSeconds: deps.otpLockMinutes * 60 });
  throw new AppError("auth.code.wrong", { attemptsLeft: deps.otpMaxFailures - counted.failures });
}

export function createStepUp(deps: StepUpDeps, keys: IdentityKeys, limits: CodeLimiters) {
  const stillGranted = (sessionId: string, purpose: StepUpPurpose, now: Date) =>
    and(rowOf(sessionId, purpose), gt(stepUps.grantedUntil, now), isNull(stepUps.spentAt));

  return {
    /** Sends a step-up code for `purpose` to the session's own account number (login's SMS limits apply). */
    async requestStepUp(
      db: Db,
      { session, purpose, ip }: { session: ResolvedSession; purpose: StepUpPurpose; ip: string },
    ) {
      const account = await accountOf(db, session.user.id);
      const now = deps.clock();
      refuseIfLocked(await challengeOf(db, account.phoneHash), now);
      await consumeOrRefuse(
        [limits.ip, ip],
        [limits.resend, `${account.phoneHash}:step-up:${purpose}`],
        [limits.daily, account.phoneHash],
      );
      const code = newCode();
      const values = {
        codeHash: keys.stepUpCodeHash(session.sessionId, purpose, code),
        codeExpiresAt: new Date(now.getTime() + deps.otpTtlSeconds * 1000),
      };
      await db
        .insert(stepUps)
        .values({ sessionId: session.sessionId, purpose, ...values })
        .onConflictDoUpdate({ target: [stepUps.sessionId, stepUps.purpose], set: values });
      const phone = deps.sealer.open(account.phoneCipher, `user.phone:${account.id}`);
      await deps.sms.sendLoginCode(phone, code, Math.round(deps.otpTtlSeconds / 60), "stepUp").catch(() => {
        throw new AppError("auth.smsUnavailable");
      });
      return { resendAfterSeconds: deps.otpResendSeconds, ttlSeconds: deps.otpTtlSeconds };
    },

    /** Checks the code; on success this session may do `purpose` for the step-up window. */
    async confirmStepUp(
      db: Db,
      { session, purpose, code, ip }: { session: ResolvedSession; purpose: StepUpPurpose; code: string; ip: string },
    ) {
      if (!CODE_PATTERN.test(code)) throw new AppError("auth.code.invalid");
      await consumeOrRefuse([limits.loginIp, ip]);
      const account = await accountOf(db, session.user.id);
      const now = deps.clock();
      refuseIfLocked(await challengeOf(db, account.phoneHash), now);
      const [row] = await db.select().from(stepUps).where(rowOf(session.sessionId, purpose));
      if (!row?.codeHash || !row.codeExpiresAt || row.codeExpiresAt <= now) throw new AppError("auth.code.expired");
      if (!equalHex(row.codeHash, keys.stepUpCodeHash(session.sessionId, purpose, code)))
        return refuseWrongStepUpCode(deps, db, account, now);
      const validUntil = new Date(now.getTime() + deps.stepUpWindowMinutes * 60_000);
      // Spent while the row still holds the code that was checked (a lock may have voided it meanwhile).
      const granted = await db
        .update(stepUps)
        .set({ codeHash: null, codeExpiresAt: null, grantedUntil: validUntil, spentAt: null })
        .where(and(rowOf(session.sessionId, purpose), eq(stepUps.codeHash, row.codeHash)))
        .returning({ purpose: stepUps.purpose });
      if (granted.length === 0) return refuseStale(db, account.phoneHash, now);
      // A right code clears the number's wrong-code count, as a login does.
      await db.update(otpChallenges).set({ failures: 0 }).where(eq(otpChallenges.phoneHash, account.phoneHash));
      return { purpose, validUntil, singleUse: SINGLE_USE_STEP_UPS.has(purpose) };
    },

    /** Whether `sessionId` holds a live grant for `purpose` (reusable purposes: checked, not spent). */
    async hasStepUp(db: Db, sessionId: string, purpose: StepUpPurpose) {
      const [row] = await db
        .select({ purpose: stepUps.purpose })
        .from(stepUps)
        .where(stillGranted(sessionId, purpose, deps.clock()));
      return row !== undefined;
    },

    /** Spends the session's grant for `purpose` (one statement: two concurrent actions cannot both spend it). */
    async spendStepUp(db: Db, sessionId: string, purpose: StepUpPurpose): Promise<Date | null> {
      const now = deps.clock();
      const [spent] = await db
        .update(stepUps)
        .set({ spentAt: now })
        .where(stillGranted(sessionId, purpose, now))
        .returning({ spentAt: stepUps.spentAt });
      return spent?.spentAt ?? null;
    },

    /** Gives back a grant spent on an action that was refused before it changed anything. */
    async restoreStepUp(db: Db, sessionId: string, purpose: StepUpPurpose, spentAt: Date) {
      await db
        .update(stepUps)
        .set({ spentAt: null })
        .where(and(rowOf(sessionId, purpose), eq(stepUps.spentAt, spentAt)));
    },
  };
}
