import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";
import { users } from "../identity/tables.js";

/**
 * The tables the kyc module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

export const kycIdentities = pgTable(
  "kyc_identities",
  {
    userId: bigint("user_id", { mode: "number" })
      .primaryKey()
      .references(() => users.id),
    nameCipher: text("name_cipher"),
    idNumberCipher: text("id_number_cipher"),
    nameMasked: text("name_masked").notNull(),
    idNumberMasked: text("id_number_masked").notNull(),
    commitment: text("commitment").notNull(),
    level: integer("level").notNull().default(1),
    provider: text("provider").notNull(),
    providerReference: text("provider_reference").notNull(),
    verifiedAt: timestamp("verified_at", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    retainUntil: timestamp("retain_until", { withTimezone: true }),
    purgedAt: timestamp("purged_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("kyc_identities_commitment_key").on(t.commitment),
    check("kyc_level_check", sql`${t.level} between 1 and 255`),
    check(
      "kyc_pii_present_unless_purged",
      // An identity attested by a trusted credential issuer (provider `credential:<did>`) never holds PII.
      sql`case when ${t.provider} like 'credential:%' then ${t.nameCipher} is null and ${t.idNumberCipher} is null else (${t.purgedAt} is null) = (${t.nameCipher} is not null and ${t.idNumberCipher} is not null) end`,
    ),
  ],
);

export const kycAttempts = pgTable(
  "kyc_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    outcome: text("outcome", { enum: ["verified", "mismatch", "unavailable", "rejected"] }).notNull(),
    reason: text("reason").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [
    index("kyc_attempts_user_idx").on(t.userId),
    check("kyc_attempts_outcome_check", sql`${t.outcome} in ('verified', 'mismatch', 'unavailable', 'rejected')`),
  ],
);

/** Outbox of on-chain identity registry writes; the registry sync worker drains it. */
export const registryBindings = pgTable(
  "registry_bindings",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    address: text("address").notNull(),
    commitment: text("commitment").notNull(),
    level: integer("level").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    status: text("status", { enum: ["pending", "confirmed"] })
      .notNull()
      .default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    txHash: text("tx_hash"),
    blockNumber: bigint("block_number", { mode: "number" }),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("registry_bindings_pending_idx").on(t.status, t.nextAttemptAt),
    // "Is this address bound on chain?": the mint planner asks it for every pending job. Both columns in one
    // index: with the address alone, PostgreSQL without fresh statistics (10,000 holders bound and paid for
    // just before, as in a flash sale) read the status index beside it for every job, about 1.5 s a batch.
    index("registry_bindings_address_status_idx").on(t.address, t.status),
    check("registry_bindings_status_check", sql`${t.status} in ('pending', 'confirmed')`),
  ],
);
