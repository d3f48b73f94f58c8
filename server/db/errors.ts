/**
 * The name of the unique constraint `error` violated, if it is a unique
 * violation (SQLSTATE 23505) from PostgreSQL or PGlite, possibly wrapped by Drizzle.
 */
export function violatedUniqueConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === "object"; depth++) {
    const record = current as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (record.code === "23505") return typeof record.constraint === "string" ? record.constraint : "";
    current = record.cause;
  }
  return undefined;
}
