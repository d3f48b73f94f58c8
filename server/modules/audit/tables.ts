import { sql } from "drizzle-orm";
import { bigint, check, jsonb, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/**
 * The tables the audit module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

export const auditLog = pgTable(
  "audit_log",
  {
    seq: bigint("seq", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    actorUserId: bigint("actor_user_id", { mode: "number" }),
    actorRole: text("actor_role").notNull(),
    action: text("action").notNull(),
    subjectType: text("subject_type").notNull(),
    subjectId: text("subject_id").notNull(),
    details: jsonb("details").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
  },
  (t) => [check("audit_seq_check", sql`${t.seq} >= 1`)],
);
