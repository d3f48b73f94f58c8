import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import { collectorProcedure, router, verifiedCollectorProcedure } from "../../trpc/init.js";

const compactJwt = safe.text({ min: 20, max: 8_000, example: "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl" });
const presentation = safe.text({ min: 20, max: 16_000, example: "eyJhbGciOiJFUzI1NiJ9.e30.c2lnbmF0dXJl~" });

export const credentialsRouter = router({
  /** A one-time challenge: for the proof of the holder key at issuance, or for a presentation to the platform. */
  challenge: collectorProcedure
    .input(z.object({ purpose: z.enum(["issue", "present"]) }))
    .mutation(({ ctx, input }) => ctx.platform.credentials.challenge(ctx.platform.db, ctx.user.id, input.purpose)),

  /** Issues a real-name credential (SD-JWT VC) bound to the holder key the proof names. */
  issue: verifiedCollectorProcedure
    .input(z.object({ proof: compactJwt }))
    .mutation(({ ctx, input }) => ctx.platform.credentials.issue(ctx.platform.db, ctx.user.id, input.proof)),

  /** The caller's credentials: dates and whether revoked. */
  mine: collectorProcedure.query(({ ctx }) => ctx.platform.credentials.mine(ctx.platform.db, ctx.user.id)),

  /** Revokes some of the caller's own credentials (a lost device). */
  revoke: collectorProcedure
    .input(z.object({ ids: z.array(safe.id()).min(1).max(20) }))
    .mutation(async ({ ctx, input }) => {
      await ctx.platform.credentials.revokeMine(ctx.platform.db, ctx.user.id, input.ids);
      return { ok: true as const };
    }),

  /** Real-name verification by a trusted issuer's credential (no ID number). */
  verifyIdentity: collectorProcedure
    .input(z.object({ presentation }))
    .mutation(({ ctx, input }) =>
      ctx.platform.credentials.verifyIdentity(ctx.platform.db, ctx.user.id, input.presentation),
    ),
});
