import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import { appendAudit } from "../audit/service.js";
import { authedProcedure, collectorProcedure, requireStepUp, router } from "../../trpc/init.js";

const kycInput = z.object({
  name: safe.text({ min: 2, max: 30, message: "kyc.name.invalid", example: "王小明" }),
  idNumber: safe.pattern(/^\d{17}[\dXx]$/, "kyc.idNumber.format", "11010119900307123X"),
});

export const kycRouter = router({
  /** Verifies the collector's real name; on success their custodial address is bound on chain. Needs a step-up. */
  submit: collectorProcedure
    .input(kycInput)
    .use(requireStepUp("kyc"))
    .mutation(({ ctx, input }) => ctx.platform.kyc.submit(ctx.platform.db, ctx.user.id, input)),

  /** Renews a verification that expires within 30 days. */
  reverify: collectorProcedure.mutation(({ ctx }) => ctx.platform.kyc.reverify(ctx.platform.db, ctx.user.id)),

  /** Masked status only. */
  status: collectorProcedure.query(({ ctx }) => ctx.platform.kyc.status(ctx.platform.db, ctx.user.id)),
});

export const privacyRouter = router({
  /** Everything the platform holds about the caller (the full ID number too), decrypted for them alone; needs a step-up. */
  exportMyData: authedProcedure.use(requireStepUp("export")).mutation(async ({ ctx }) => {
    const { platform, user } = ctx;
    const [account, identity, kyc, sessions] = await Promise.all([
      platform.identity.exportAccount(platform.db, user.id),
      platform.kyc.exportIdentity(platform.db, user.id),
      platform.kyc.status(platform.db, user.id),
      platform.identity.listSessions(platform.db, user.id),
    ]);
    return { exportedAt: platform.clock(), account, identity, verification: kyc, sessions };
  }),

  /**
   * Asks for erasure: the account is closed and signed out at once; the
   * encrypted identity is deleted when the legal retention period ends.
   */
  requestErasure: authedProcedure.mutation(async ({ ctx }) => {
    const { platform, user } = ctx;
    await platform.db.transaction(async (tx) => {
      await platform.identity.markErasureRequested(tx, user.id);
      await platform.kyc.scheduleErasure(tx, user.id);
      await platform.identity.revokeAllSessions(tx, user.id);
      await platform.credentials.revokeForAccount(tx, user.id, "erasure");
      await appendAudit(
        tx,
        {
          actor: { userId: user.id, role: user.role },
          action: "account.erasureRequested",
          subject: { type: "user", id: user.id },
          details: { retentionYears: platform.config.env.PII_RETENTION_YEARS },
        },
        platform.clock(),
      );
    });
    ctx.cookies.clearSession();
    return { ok: true as const, retentionYears: platform.config.env.PII_RETENTION_YEARS };
  }),
});
