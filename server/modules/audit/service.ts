import { createHash } from "node:crypto";

import { and, asc, desc, eq, gt, gte, inArray, lt, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { auditLog } from "./tables.js";

/**
 * The append-only, hash-chained audit log. Every operator, issuer and
 * compliance action writes one row; each row stores the hash of the row
 * before it and the hash of its own content, so an edited, removed or
 * reordered row breaks the chain. Details must never hold personal data.
 */

export const GENESIS_HASH = "0".repeat(64);

export interface AuditEvent {
  actor: { userId: number | null; role: "collector" | "issuer_staff" | "operator" | "system" };
  action: string;
  subject: { type: string; id: string | number };
  details?: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  at: Date;
  actorUserId: number | null;
  actorRole: string;
  action: string;
  subjectType: string;
  subjectId: string;
  details: unknown;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every level, so equal content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function hashAuditRow(row: Omit<AuditRow, "hash">): string {
  const content = canonicalJson({
    seq: row.seq,
    at: row.at.toISOString(),
    actorUserId: row.actorUserId,
    actorRole: row.actorRole,
    action: row.action,
    subjectType: row.subjectType,
    subjectId: row.subjectId,
    details: row.details,
    prevHash: row.prevHash,
  });
  return createHash("sha256").update(content, "utf8").digest("hex");
}

/** An arbitrary constant that names the audit log's advisory lock. */
const AUDIT_LOCK_KEY = 7_240_311;

/**
 * Appends one event. Runs in (a savepoint of) the caller's transaction, so
 * the event is written if and only if the action it records is; appends are
 * serialised by a transaction-scoped advisory lock so the chain never forks.
 */
export async function appendAudit(db: Db, event: AuditEvent, at: Date = new Date()): Promise<AuditRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`);
    const [last] = await tx
      .select({ seq: auditLog.seq, hash: auditLog.hash })
      .from(auditLog)
      .orderBy(desc(auditLog.seq))
      .limit(1);
    const content: Omit<AuditRow, "hash"> = {
      seq: (last?.seq ?? 0) + 1,
      at,
      actorUserId: event.actor.userId,
      actorRole: event.actor.role,
      action: event.action,
      subjectType: event.subject.type,
      subjectId: String(event.subject.id),
      details: JSON.parse(canonicalJson(event.details ?? {})),
      prevHash: last?.hash ?? GENESIS_HASH,
    };
    const row: AuditRow = { ...content, hash: hashAuditRow(content) };
    await tx.insert(auditLog).values({ ...row, details: row.details as object });
    return row;
  });
}

export interface AuditChainReport {
  ok: boolean;
  rows: number;
  /** The first row that does not fit the chain, when `ok` is false. */
  firstBadSeq?: number;
  problem?: "sequence-gap" | "broken-link" | "content-changed";
  headHash: string;
}

/** Re-reads the whole log and checks every link and every row's content. */
export async function verifyAuditChain(db: Db, pageSize = 1000): Promise<AuditChainReport> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let rows = 0;
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(gt(auditLog.seq, expectedSeq - 1))
      .orderBy(asc(auditLog.seq))
      .limit(pageSize);
    for (const row of page) {
      const bad = (problem: NonNullable<AuditChainReport["problem"]>): AuditChainReport => ({
        ok: false,
        rows,
        firstBadSeq: row.seq,
        problem,
        headHash: prevHash,
      });
      if (row.seq !== expectedSeq) return bad("sequence-gap");
      if (row.prevHash !== prevHash) return bad("broken-link");
      if (hashAuditRow(row) !== row.hash) return bad("content-changed");
      prevHash = row.hash;
      expectedSeq++;
      rows++;
    }
    if (page.length < pageSize) return { ok: true, rows, headHash: prevHash };
  }
}

/** Which events to list: by action, actor role and time (all optional). */
export interface AuditFilter {
  beforeSeq?: number | undefined;
  action?: string | undefined;
  actorRole?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** The newest events matching the filter, newest first. */
export async function recentAudit(db: Db, limit: number, filter: AuditFilter = {}): Promise<AuditRow[]> {
  const conditions = [
    ...(filter.beforeSeq === undefined ? [] : [lt(auditLog.seq, filter.beforeSeq)]),
    ...(filter.action === undefined ? [] : [eq(auditLog.action, filter.action)]),
    ...(filter.actorRole === undefined ? [] : [eq(auditLog.actorRole, filter.actorRole)]),
    ...(filter.from === undefined ? [] : [gte(auditLog.at, filter.from)]),
    ...(filter.to === undefined ? [] : [lt(auditLog.at, filter.to)]),
  ];
  return db
    .select()
    .from(auditLog)
    .where(conditions.length === 0 ? undefined : and(...conditions))
    .orderBy(desc(auditLog.seq))
    .limit(limit);
}

/** The distinct actions in the log, for the console's filter. */
export async function auditActions(db: Db): Promise<string[]> {
  const rows = await db.selectDistinct({ action: auditLog.action }).from(auditLog).orderBy(asc(auditLog.action));
  return rows.map((row) => row.action);
}

/** Whether `userId` did any of `actions` to a subject: e.g. drafted or submitted the collection under review. */
export async function actedOn(
  db: Db,
  userId: number,
  subject: { type: string; id: number | string },
  actions: readonly string[],
): Promise<boolean> {
  const [row] = await db
    .select({ seq: auditLog.seq })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.actorUserId, userId),
        eq(auditLog.subjectType, subject.type),
        eq(auditLog.subjectId, String(subject.id)),
        inArray(auditLog.action, [...actions]),
      ),
    )
    .limit(1);
  return row !== undefined;
}
