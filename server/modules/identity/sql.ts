import { type SQL, sql } from "drizzle-orm";

import { sessions } from "./tables.js";

/**
 * The identity module's SQL for statements of other modules that must stay
 * one round trip (the flash-sale hot path): the accounts behind session ids,
 * as a subquery. Whether each session is still valid is `resolveSession`'s
 * answer; this only maps ids to accounts.
 */
export function accountsOfSessions(sessionIds: readonly string[]): SQL {
  return sql`(select ${sessions.userId} from ${sessions}
              where ${sessions.id} = any(${sql.param([...new Set(sessionIds)])}::text[]))`;
}
