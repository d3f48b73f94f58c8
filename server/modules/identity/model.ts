import type { SmsProvider } from "../../providers/sms/types.js";
import { type Sealer, hmacHex } from "../../security/crypto.js";
import type { Limiters } from "../../security/rate-limits.js";
import type { users } from "./tables.js";

/** What the identity module's parts share: its types, patterns and the keyed hashes it looks things up by. */

export type Role = "collector" | "issuer_staff" | "operator";

export interface SessionUser {
  id: number;
  role: Role;
  issuerId: number | null;
  phoneMasked: string;
  status: "active" | "erasure_requested";
}

export interface SessionLimits {
  lifetimeMs: number;
  idleMs: number;
}

export interface SessionPolicy {
  collector: SessionLimits;
  /** Issuer staff and operators. */
  staff: SessionLimits;
}

export const sessionLimitsOf = (policy: SessionPolicy, role: Role): SessionLimits =>
  role === "collector" ? policy.collector : policy.staff;

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
  /**
   * How long a session lives, from login (absolute) and from its last request (idle), by role: staff and
   * operators get short ones, collectors longer ones. Checked on every request, with the role held now.
   */
  sessionPolicy: SessionPolicy;
  /** How long a confirmed step-up lets its session do the action it was for (single-use purposes: once). */
  stepUpWindowMinutes: number;
  /** Where the login-code and login-attempt limits count (memory by default; Redis shares them across instances). */
  limiters?: Limiters;
}

/** The actions that need a fresh SMS code (step-up) even in a live session. */
export const STEP_UP_PURPOSES = ["export", "gift", "kyc"] as const;
export type StepUpPurpose = (typeof STEP_UP_PURPOSES)[number];
/** Purposes whose grant buys one action only (one code, one gift). */
export const SINGLE_USE_STEP_UPS: ReadonlySet<StepUpPurpose> = new Set(["gift"]);

export const PHONE_PATTERN = /^1[3-9]\d{9}$/;
export const CODE_PATTERN = /^\d{6}$/;

export function maskPhone(phone: string): string {
  return `${phone.slice(0, 3)}****${phone.slice(-4)}`;
}

/** The keyed hashes the tables store instead of phone numbers, codes and session tokens. */
export interface IdentityKeys {
  phoneHash(phone: string): string;
  codeHash(hashOfPhone: string, code: string): string;
  sessionIdOf(token: string): string;
  /** A step-up code's hash, bound to the session and the purpose (a login code never matches it, nor the reverse). */
  stepUpCodeHash(sessionId: string, purpose: StepUpPurpose, code: string): string;
}

export function identityKeys(lookupPepper: string): IdentityKeys {
  return {
    phoneHash: (phone) => hmacHex(lookupPepper, `phone:${phone}`),
    codeHash: (hashOfPhone, code) => hmacHex(lookupPepper, `otp:${hashOfPhone}:${code}`),
    sessionIdOf: (token) => hmacHex(lookupPepper, `session:${token}`),
    stepUpCodeHash: (sessionId, purpose, code) => hmacHex(lookupPepper, `step-up:${sessionId}:${purpose}:${code}`),
  };
}

export function toSessionUser(
  row: Pick<typeof users.$inferSelect, "id" | "role" | "issuerId" | "phoneMasked" | "status">,
): SessionUser {
  return {
    id: row.id,
    role: row.role,
    issuerId: row.issuerId,
    phoneMasked: row.phoneMasked,
    status: row.status,
  };
}
