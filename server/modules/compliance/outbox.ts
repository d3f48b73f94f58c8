import { and, desc, eq, inArray, lt, or, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { SessionUser } from "../identity/service.js";
import { type COMPLIANCE_KINDS, complianceActions } from "./tables.js";

/** The outbox rows of compliance actions: written with their audit entry, claimed by one sender at a time. */

export type ComplianceKind = (typeof COMPLIANCE_KINDS)[number];
export type ComplianceRow = typeof complianceActions.$inferSelect;
export type Operator = Pick<SessionUser, "id" | "role">;

/** What an action is about. Ids and addresses only: never a name, phone or ID number. */
export interface ComplianceSubject {
  userId?: number;
  commitment?: string;
  collectionId?: number;
  tokenId?: number;
  contract?: string;
  fromUserId?: number;
  toUserId?: number;
  toAddress?: string;
  sameIdentity?: boolean;
}

/** How long a sender holds a claimed row before another may take it over (its process died). */
export const LEASE_MS = 2 * 60_000;

/** The audit subject of an action: the person for an identity freeze, else the collection. */
export function auditSubjectOf(kind: ComplianceKind, subject: ComplianceSubject) {
  return kind.startsWith("identity.")
    ? { type: "user", id: subject.userId! }
    : { type: "collection", id: subject.collectionId! };
}

export async function insertAction(
  tx: Db,
  at: Date,
  operator: Operator,
  action: { kind: ComplianceKind; subject: ComplianceSubject; reasonCode: number; reason: string },
  needsApproval: boolean,
  auditAction: string,
): Promise<ComplianceRow> {
  if (needsApproval) {
    // One open request per action and subject: a second would only be a second decision to make.
    const [open] = await tx
      .select({ id: complianceActions.id })
      .from(complianceActions)
      .where(
        and(
          eq(complianceActions.kind, action.kind),
          sql`${complianceActions.subject} = ${JSON.stringify(action.subject)}::jsonb`,
          inArray(complianceActions.status, ["awaiting_approval", "queued", "sending"]),
        ),
      )
      .limit(1);
    if (open !== undefined) throw new AppError("compliance.pendingRequest", { actionId: open.id });
  }
  const [row] = await tx
    .insert(complianceActions)
    .values({
      kind: action.kind,
      subject: action.subject,
      reasonCode: action.reasonCode,
      reason: action.reason,
      status: needsApproval ? "awaiting_approval" : "queued",
      requestedBy: operator.id,
      createdAt: at,
    })
    .returning();
  await appendAudit(
    tx,
    {
      actor: { userId: operator.id, role: operator.role },
      action: auditAction,
      subject: auditSubjectOf(action.kind, action.subject),
      details: {
        actionId: row!.id,
        kind: action.kind,
        ...action.subject,
        reasonCode: action.reasonCode,
        reason: action.reason,
      },
    },
    at,
  );
  return row!;
}

/** Claims a queued row (or one whose sender's lease ran out) for sending; null when someone else has it. */
export async function claimAction(db: Db, id: number, now: Date): Promise<ComplianceRow | null> {
  const [row] = await db
    .update(complianceActions)
    .set({
      status: "sending",
      leaseUntil: new Date(now.getTime() + LEASE_MS),
      attempts: sql`${complianceActions.attempts} + 1`,
    })
    .where(
      and(
        eq(complianceActions.id, id),
        or(
          eq(complianceActions.status, "queued"),
          and(eq(complianceActions.status, "sending"), lt(complianceActions.leaseUntil, now)),
        ),
      ),
    )
    .returning();
  return row ?? null;
}

/** Rows due for sending: queued, or claimed by a sender whose lease ran out. */
export async function dueActions(db: Db, now: Date, limit: number): Promise<number[]> {
  const rows = await db
    .select({ id: complianceActions.id })
    .from(complianceActions)
    .where(
      or(
        eq(complianceActions.status, "queued"),
        and(eq(complianceActions.status, "sending"), lt(complianceActions.leaseUntil, now)),
      ),
    )
    .orderBy(complianceActions.id)
    .limit(limit);
  return rows.map((row) => row.id);
}

export async function lockAction(tx: Db, id: number): Promise<ComplianceRow> {
  const [row] = await tx.select().from(complianceActions).where(eq(complianceActions.id, id)).for("update");
  if (row === undefined) throw new AppError("compliance.notFound");
  return row;
}

export async function setStatus(
  tx: Db,
  id: number,
  changes: Partial<
    Pick<ComplianceRow, "status" | "txHash" | "lastError" | "completedAt" | "leaseUntil" | "decidedBy" | "decidedAt">
  >,
) {
  await tx.update(complianceActions).set(changes).where(eq(complianceActions.id, id));
}

export async function listActions(db: Db, statuses: ComplianceRow["status"][] | null, limit: number) {
  return db
    .select()
    .from(complianceActions)
    .where(statuses === null ? undefined : inArray(complianceActions.status, statuses))
    .orderBy(desc(complianceActions.id))
    .limit(limit);
}

export async function actionById(db: Db, id: number): Promise<ComplianceRow> {
  const [row] = await db.select().from(complianceActions).where(eq(complianceActions.id, id));
  if (row === undefined) throw new AppError("compliance.notFound");
  return row;
}
