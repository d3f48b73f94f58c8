import { and, desc, eq } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { AppError } from "../../errors.js";
import type { SessionUser } from "../identity/service.js";
import { type Actor, type CatalogDependencies, auditCatalog } from "./context.js";
import { parseCreditCode } from "./credit-code.js";
import { issuers } from "./tables.js";

/** Issuers (museums, brands): their applications, reviewed by operators. */
export function createIssuers(deps: Pick<CatalogDependencies, "identity" | "clock">) {
  return {
    async applyIssuer(db: Db, applicant: SessionUser, input: { legalName: string; creditCode: string }) {
      const parsed = parseCreditCode(input.creditCode);
      if (!parsed.ok) throw new AppError(parsed.code);
      if (applicant.issuerId !== null) throw new AppError("issuer.alreadyMember");
      const [pending] = await db
        .select({ id: issuers.id })
        .from(issuers)
        .where(and(eq(issuers.applicantUserId, applicant.id), eq(issuers.status, "pending")));
      if (pending !== undefined) throw new AppError("issuer.alreadyMember");
      try {
        return await db.transaction(async (tx) => {
          const [created] = await tx
            .insert(issuers)
            .values({ name: input.legalName.trim(), creditCode: parsed.normalised, applicantUserId: applicant.id })
            .returning();
          await auditCatalog(tx, deps.clock, applicant, "issuer.applied", { type: "issuer", id: created!.id });
          return created!;
        });
      } catch (error) {
        if (violatedUniqueConstraint(error) === "issuers_credit_code_key") throw new AppError("issuer.creditCodeInUse");
        throw error;
      }
    },

    async reviewIssuer(
      db: Db,
      operator: Actor,
      input: { issuerId: number; approve: boolean; reason?: string | undefined },
    ) {
      if (!input.approve && !input.reason?.trim()) throw new AppError("review.reasonRequired");
      return db.transaction(async (tx) => {
        const [row] = await tx.select().from(issuers).where(eq(issuers.id, input.issuerId)).for("update");
        if (row === undefined) throw new AppError("issuer.notFound");
        if (row.status !== "pending") throw new AppError("issuer.notPending");
        // Four eyes: whoever filed an application never decides it.
        if (row.applicantUserId === operator.id) throw new AppError("review.ownSubmission");
        const status = input.approve ? "approved" : "rejected";
        const [updated] = await tx
          .update(issuers)
          .set({ status, rejectionReason: input.approve ? null : input.reason!.trim(), decidedAt: deps.clock() })
          .where(eq(issuers.id, row.id))
          .returning();
        if (input.approve && row.applicantUserId !== null) {
          await deps.identity.assignIssuerStaff(tx, row.applicantUserId, row.id);
        }
        await auditCatalog(
          tx,
          deps.clock,
          operator,
          `issuer.${status}`,
          { type: "issuer", id: row.id },
          input.approve ? {} : { reason: input.reason },
        );
        return updated!;
      });
    },

    async listIssuers(db: Db, status?: "pending" | "approved" | "rejected") {
      const query = db.select().from(issuers);
      return (status === undefined ? query : query.where(eq(issuers.status, status))).orderBy(desc(issuers.id));
    },

    /** The newest application an account made (pending, approved or rejected with its reason), or null. */
    async applicationOf(db: Db, userId: number) {
      const [row] = await db
        .select()
        .from(issuers)
        .where(eq(issuers.applicantUserId, userId))
        .orderBy(desc(issuers.id))
        .limit(1);
      return row ?? null;
    },

    async issuerOf(db: Db, issuerId: number) {
      const [row] = await db.select().from(issuers).where(eq(issuers.id, issuerId));
      if (row === undefined) throw new AppError("issuer.notFound");
      return row;
    },
  };
}
