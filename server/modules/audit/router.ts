import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import type { Db } from "../../db/client.js";
import type { Platform } from "../../platform.js";
import { operatorProcedure, router } from "../../trpc/init.js";
import { type AuditRow, auditActions, recentAudit, verifyAuditChain } from "./service.js";

/** A China day "YYYY-MM-DD" as the start of that day. */
const chinaDay = safe.day("payments.dayInvalid");

/**
 * Rows in words for the console: the actor's and a user subject's phone masked, a collection or issuer by name.
 * The stored rows (and so the hash chain) are unchanged; names are looked up when read.
 */
async function named(platform: Pick<Platform, "identity" | "catalog">, db: Db, rows: AuditRow[]) {
  const phones = new Map<number, string>();
  const phoneOf = async (userId: number) => {
    if (!phones.has(userId)) {
      phones.set(userId, (await platform.identity.findAccountById(db, userId))?.phoneMasked ?? "—");
    }
    return phones.get(userId)!;
  };
  const collectionIds = rows
    .filter((row) => row.subjectType === "collection")
    .map((row) => Number(row.subjectId))
    .filter(Number.isSafeInteger);
  const titles = await platform.catalog.titlesOf(db, collectionIds);
  const issuerNames = new Map<number, string>();
  for (const id of new Set(rows.filter((row) => row.subjectType === "issuer").map((row) => Number(row.subjectId)))) {
    issuerNames.set(
      id,
      await platform.catalog.issuerOf(db, id).then(
        (issuer) => issuer.name,
        () => "—",
      ),
    );
  }
  const out = [];
  for (const row of rows) {
    const id = Number(row.subjectId);
    const subjectName =
      row.subjectType === "user" && Number.isSafeInteger(id)
        ? await phoneOf(id)
        : row.subjectType === "collection"
          ? (titles.get(id)?.title ?? null)
          : row.subjectType === "issuer"
            ? (issuerNames.get(id) ?? null)
            : null;
    out.push({ ...row, actorMasked: row.actorUserId === null ? null : await phoneOf(row.actorUserId), subjectName });
  }
  return out;
}

export const auditRouter = router({
  /** Re-checks the whole hash chain. */
  verify: operatorProcedure.query(({ ctx }) => verifyAuditChain(ctx.platform.db)),

  /** The newest events, filtered by action, actor role and China days, with masked names. */
  recent: operatorProcedure
    .input(
      z.object({
        limit: safe.int(1, 200).default(50),
        beforeSeq: safe.int(1, Number.MAX_SAFE_INTEGER).optional(),
        action: safe.text({ max: 64 }).optional(),
        actorRole: z.enum(["system", "operator", "issuer_staff", "collector"]).optional(),
        from: chinaDay.optional(),
        to: chinaDay.optional(),
      }),
    )
    .query(async ({ ctx, input }) => {
      const rows = await recentAudit(ctx.platform.db, input.limit, {
        beforeSeq: input.beforeSeq,
        action: input.action,
        actorRole: input.actorRole,
        from: input.from,
        // "to" is inclusive: up to the end of that day.
        to: input.to === undefined ? undefined : new Date(input.to.getTime() + 86_400_000),
      });
      return named(ctx.platform, ctx.platform.db, rows);
    }),

  /** The actions the log holds, for the filter. */
  actions: operatorProcedure.query(({ ctx }) => auditActions(ctx.platform.db)),
});
