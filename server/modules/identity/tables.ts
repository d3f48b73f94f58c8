import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";
import { issuers } from "../catalog/tables.js";

/**
 * The tables the identity module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

export const users = pgTable(
  "users",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    phoneHash: text("phone_hash").notNull(),
    phoneCipher: text("phone_cipher").notNull(),
    phoneMasked: text("phone_masked").notNull(),
    role: text("role", { enum: ["collector", "issuer_staff", "operator"] })
      .notNull()
      .default("collector"),
    issuerId: bigint("issuer_id", { mode: "number" }).references(() => issuers.id),
    status: text("status", { enum: ["active", "erasure_requested"] })
      .notNull()
      .default("active"),
    erasureRequestedAt: timestamp("erasure_requested_at", { withTimezone: true }),
    /** Set by an operator when the account is flagged for off-platform resale. */
    giftingSuspendedAt: timestamp("gifting_suspended_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("users_phone_hash_key").on(t.phoneHash),
    check("users_role_check", sql`${t.role} in ('collector', 'issuer_staff', 'operator')`),
    check("users_status_check", sql`${t.status} in ('active', 'erasure_requested')`),
    check("users_issuer_staff_has_issuer", sql`(${t.role} = 'issuer_staff') = (${t.issuerId} is not null)`),
  ],
);

export const otpChallenges = pgTable(
  "otp_challenges",
  {
    phoneHash: text("phone_hash").primaryKey(),
    codeHash: text("code_hash"),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    failures: integer("failures").notNull().default(0),
    lockedUntil: timestamp("locked_until", { withTimezone: true }),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (t) => [check("otp_failures_check", sql`${t.failures} >= 0`)],
);

/** Stored with fillfactor 70 (migration 0020): room on each page for the touches of last_seen_at. */
export const sessions = pgTable(
  "sessions",
  {
    id: text("id").primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    userAgent: text("user_agent").notNull().default(""),
    createdAt: createdAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [index("sessions_user_idx").on(t.userId)],
);

/**
 * Step-up: a fresh SMS code a session must confirm before a sensitive action (data export, gift, KYC
 * submission). One row per session and purpose: the pending code (keyed hash, bound to both), then the
 * grant it bought, valid until `granted_until` and, for single-use purposes, until `spent_at` is set.
 */
export const stepUps = pgTable(
  "step_ups",
  {
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: ["export", "gift", "kyc"] }).notNull(),
    codeHash: text("code_hash"),
    codeExpiresAt: timestamp("code_expires_at", { withTimezone: true }),
    grantedUntil: timestamp("granted_until", { withTimezone: true }),
    spentAt: timestamp("spent_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.sessionId, t.purpose] }),
    check("step_ups_purpose_check", sql`${t.purpose} in ('export', 'gift', 'kyc')`),
  ],
);
