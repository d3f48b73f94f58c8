import { type SQL, sql } from "drizzle-orm";

import { kycIdentities, registryBindings } from "./tables.js";

/**
 * The KYC module's SQL for statements of other modules that must stay one
 * round trip (the flash-sale hot path, the mint planner). The real-name rule
 * is written here once; the service's own lookups use it too.
 */

export interface VerifiedIdentity {
  /** The rule over a `kyc_identities` row: it belongs to the account and verifies it at that time (not purged, not expired). */
  condition: SQL;
  /** `left join` of the account's verified identity row (none when the account is not verified). */
  join: SQL;
  /** The joined identity's commitment: null when the account is not verified. */
  commitment: SQL;
}

/**
 * The verified identity of the account `account` at `at` (a moment, or an SQL expression for one). `account` is the right-hand side of an `=`: usually
 * a column of the caller's statement (`wanted.user_id`), or `any(...)` of an array or a subquery for a set.
 */
export function verifiedIdentityOf(account: SQL, at: Date | SQL): VerifiedIdentity {
  // `at` as SQL: a placeholder of a prepared statement.
  const moment = at instanceof Date ? sql`${at.toISOString()}` : at;
  const condition = sql`(${kycIdentities.userId} = ${account} and ${kycIdentities.purgedAt} is null
    and ${kycIdentities.expiresAt} > ${moment}::timestamptz)`;
  return {
    condition,
    join: sql`left join ${kycIdentities} on ${condition}`,
    commitment: sql`${kycIdentities.commitment}`,
  };
}

/** Whether the address `address` (an SQL expression) is bound in the on-chain identity registry (confirmed). */
export function addressBoundOnChain(address: SQL): SQL {
  return sql`exists (select 1 from ${registryBindings}
    where ${registryBindings.address} = ${address} and ${registryBindings.status} = 'confirmed')`;
}
