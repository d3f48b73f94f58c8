import { type SQL, eq, sql } from "drizzle-orm";

import { createBatcher, perDatabase } from "../../batching.js";
import type { Db } from "../../db/client.js";
import { accountsOfSessions } from "../identity/sql.js";
import { verifiedIdentityOf } from "./sql.js";
import { kycIdentities } from "./tables.js";

/** Who is verified: lookups by account and by session, all by the one real-name rule of ./sql.ts. */

/** An account's identity row, whatever its state. */
export async function readIdentity(db: Db, userId: number) {
  const [row] = await db.select().from(kycIdentities).where(eq(kycIdentities.userId, userId));
  return row;
}

/** The commitments of the verified identities of the accounts `accounts` (the right-hand side of an `=`) at `at`. */
async function verifiedAmong(db: Db, accounts: SQL, at: Date): Promise<Map<number, string>> {
  const rows = await db
    .select({ userId: kycIdentities.userId, commitment: kycIdentities.commitment })
    .from(kycIdentities)
    .where(verifiedIdentityOf(accounts, at).condition);
  return new Map(rows.map((row) => [row.userId, row.commitment]));
}

const anyOf = (userIds: readonly number[]) => sql`any(${sql.param([...new Set(userIds)])}::bigint[])`;

export function createVerifiedLookups(clock: () => Date) {
  // Whether one account is verified is the same rule as `verifiedCommitments`; a crowd's checks (the
  // verified-collector middleware on every reservation) share one query per batch, a statement prepared once
  // per database handle (drizzle would build its SQL again for every batch).
  const verifiedLookups = perDatabase((db: Db) => {
    const statement = db
      .select({ userId: kycIdentities.userId })
      .from(kycIdentities)
      .where(verifiedIdentityOf(sql`any(${sql.placeholder("ids")}::bigint[])`, sql`${sql.placeholder("at")}`).condition)
      .prepare("kyc_verified_among");
    return createBatcher(
      async (userIds: number[]) => {
        const rows = await statement.execute({ ids: [...new Set(userIds)], at: clock().toISOString() });
        const found = new Set(rows.map((row) => Number(row.userId)));
        return userIds.map((userId) => ({ ok: true as const, value: found.has(userId) }));
      },
      { maxBatch: 500, maxInFlight: 1, minIntervalMs: 4 },
    );
  });

  return {
    isVerified: (db: Db, userId: number) => verifiedLookups(db)(userId),

    async verifiedCommitments(db: Db, userIds: readonly number[]): Promise<Map<number, string>> {
      if (userIds.length === 0) return new Map();
      return verifiedAmong(db, anyOf(userIds), clock());
    },

    async verifiedCommitmentsOfSessions(db: Db, sessionIds: readonly string[]): Promise<Map<number, string>> {
      if (sessionIds.length === 0) return new Map();
      return verifiedAmong(db, sql`any${accountsOfSessions(sessionIds)}`, clock());
    },

    async commitmentOf(db: Db, userId: number): Promise<string | null> {
      const row = await readIdentity(db, userId);
      return row === undefined || row.purgedAt !== null ? null : row.commitment;
    },
  };
}
