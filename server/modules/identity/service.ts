import type { Db } from "../../db/client.js";
import { createAccounts, createPersonalData } from "./accounts.js";
import { createCodeLimiters, createLogin } from "./login.js";
import {
  type IdentityDependencies,
  type ResolvedSession,
  type Role,
  type SessionUser,
  type StepUpPurpose,
  identityKeys,
} from "./model.js";
import { createSessions } from "./sessions.js";
import { createStepUp } from "./step-up.js";

/**
 * Accounts, phone login with one-time codes, sessions and roles. Phone
 * numbers are personal data: the table keeps an HMAC for lookups, the
 * number sealed for the person's own export, and a masked form for display.
 */

export {
  CODE_PATTERN,
  type IdentityDependencies,
  PHONE_PATTERN,
  type ResolvedSession,
  type Role,
  type SessionUser,
  SINGLE_USE_STEP_UPS,
  STEP_UP_PURPOSES,
  type StepUpPurpose,
  maskPhone,
} from "./model.js";

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
  /** Sends a step-up code for `purpose` to the session's own account number. */
  requestStepUp(
    db: Db,
    input: { session: ResolvedSession; purpose: StepUpPurpose; ip: string },
  ): Promise<{ resendAfterSeconds: number; ttlSeconds: number }>;
  /** Checks a step-up code; on success the session may do `purpose` until `validUntil` (once if `singleUse`). */
  confirmStepUp(
    db: Db,
    input: { session: ResolvedSession; purpose: StepUpPurpose; code: string; ip: string },
  ): Promise<{ purpose: StepUpPurpose; validUntil: Date; singleUse: boolean }>;
  hasStepUp(db: Db, sessionId: string, purpose: StepUpPurpose): Promise<boolean>;
  /** Spends the grant (null: there was none); `restoreStepUp` gives it back if the action was refused. */
  spendStepUp(db: Db, sessionId: string, purpose: StepUpPurpose): Promise<Date | null>;
  restoreStepUp(db: Db, sessionId: string, purpose: StepUpPurpose, spentAt: Date): Promise<void>;
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

export function createIdentityService(deps: IdentityDependencies): IdentityService {
  const keys = identityKeys(deps.lookupPepper);
  const accounts = createAccounts(deps, keys);
  const codeLimits = createCodeLimiters(deps);
  return {
    sessionIdOf: keys.sessionIdOf,
    // accounts and roles (accounts.ts)
    ...accounts,
    // the person's own data: export and erasure (accounts.ts)
    ...createPersonalData(deps),
    // codes and login (login.ts)
    ...createLogin(deps, keys, accounts.ensureAccount, codeLimits),
    // step-up codes for sensitive actions (step-up.ts)
    ...createStepUp(deps, keys, codeLimits),
    // sessions (sessions.ts)
    ...createSessions(deps, keys),
  };
}
