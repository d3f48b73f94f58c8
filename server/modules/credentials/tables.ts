import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";
import { users } from "../identity/tables.js";

/**
 * The tables the credentials module owns. A credential row holds no claim
 * values: only where its status bit lives, whose it is (for revocation), the
 * holder key's thumbprint and its dates.
 */

export const credentials = pgTable(
  "credentials",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    /** The status list (`/credentials/status/<list>`) and the credential's index in it. */
    listId: integer("list_id").notNull(),
    idx: integer("idx").notNull(),
    /** RFC 7638 thumbprint of the holder key the credential is bound to (`cnf.jwk`). */
    holderThumbprint: text("holder_thumbprint").notNull(),
    keyId: text("key_id").notNull(),
    issuedAt: timestamp("issued_at", { withTimezone: true }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    revokeReason: text("revoke_reason"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("credentials_list_idx_key").on(t.listId, t.idx),
    index("credentials_user_idx").on(t.userId),
    check("credentials_idx_check", sql`${t.idx} >= 0 and ${t.listId} >= 1`),
  ],
);

/** One-time challenges: a holder's proof of key possession at issuance, or a presentation to the platform. */
export const credentialNonces = pgTable(
  "credential_nonces",
  {
    nonce: text("nonce").primaryKey(),
    userId: bigint("user_id", { mode: "number" })
      .notNull()
      .references(() => users.id),
    purpose: text("purpose", { enum: ["issue", "present"] }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    usedAt: timestamp("used_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index("credential_nonces_user_idx").on(t.userId),
    check("credential_nonces_purpose_check", sql`${t.purpose} in ('issue', 'present')`),
  ],
);
