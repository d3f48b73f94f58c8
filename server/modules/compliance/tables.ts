import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";

/**
 * The tables the compliance module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

export const COMPLIANCE_KINDS = [
  "identity.freeze",
  "identity.unfreeze",
  "token.freeze",
  "token.unfreeze",
  "token.recover",
  "token.takedown",
  "collection.takedown",
] as const;

export const COMPLIANCE_STATUSES = ["awaiting_approval", "rejected", "queued", "sending", "done", "failed"] as const;

/**
 * The chain-work outbox of compliance actions. A row is written with its audit entry in one transaction
 * before anything is sent: powerful actions (recovery, takedown) wait in `awaiting_approval` for a second
 * operator; the sender claims `queued` rows (`sending`, with a lease), checks the chain's state, acts only
 * when the chain is not there yet, and marks them `done` (or `failed` when the contract refuses).
 */
export const complianceActions = pgTable(
  "compliance_actions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    kind: text("kind", { enum: COMPLIANCE_KINDS }).notNull(),
    /** What the action is about: user, collection, token, target account and addresses (no personal data). */
    subject: jsonb("subject").notNull(),
    /** The code written on chain. */
    reasonCode: integer("reason_code").notNull(),
    /** The operator's words (kept here and in the audit log, never on chain). */
    reason: text("reason").notNull(),
    status: text("status", { enum: COMPLIANCE_STATUSES }).notNull(),
    requestedBy: bigint("requested_by", { mode: "number" }).notNull(),
    decidedBy: bigint("decided_by", { mode: "number" }),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    attempts: integer("attempts").notNull().default(0),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    lastError: text("last_error"),
    txHash: text("tx_hash"),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("compliance_actions_status_idx").on(t.status, t.id),
    check(
      "compliance_actions_status_check",
      sql`${t.status} in ('awaiting_approval', 'rejected', 'queued', 'sending', 'done', 'failed')`,
    ),
    check(
      "compliance_actions_kind_check",
      sql`${t.kind} in ('identity.freeze', 'identity.unfreeze', 'token.freeze', 'token.unfreeze', 'token.recover', 'token.takedown', 'collection.takedown')`,
    ),
    // Four eyes: whoever decides is never the one who asked.
    check("compliance_actions_four_eyes", sql`${t.decidedBy} is null or ${t.decidedBy} <> ${t.requestedBy}`),
  ],
);
