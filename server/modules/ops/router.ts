import { z } from "zod";

import { ORDER_STATUSES } from "../drops/reports.js";
import { operatorProcedure, router } from "../../trpc/init.js";
import { PHONE_PATTERN } from "../identity/service.js";
import { reasonText as reason } from "../compliance/text.js";

export const opsRouter = router({
  /** Freezes or unfreezes an account's identity in the on-chain registry (recorded and audited first, then sent). */
  freezeAccount: operatorProcedure
    .input(z.object({ userId: z.number().int().positive(), frozen: z.boolean(), reason }))
    .mutation(async ({ ctx, input }) => {
      // Credentials go first: a freeze that then fails on chain leaves them revoked, never the other way.
      if (input.frozen) await ctx.platform.credentials.revokeForAccount(ctx.platform.db, input.userId, "frozen");
      return ctx.platform.ops.freezeAccount(ctx.platform.db, ctx.user, input);
    }),

  /** Freezes or unfreezes one token in its collection contract (audited). */
  freezeToken: operatorProcedure
    .input(
      z.object({
        collectionId: z.number().int().positive(),
        tokenId: z.number().int().min(1).max(16_777_215),
        frozen: z.boolean(),
        reason,
      }),
    )
    .mutation(({ ctx, input }) => ctx.platform.ops.freezeToken(ctx.platform.db, ctx.user, input)),

  /** Finds an account by its phone number (answered masked) with its verification, freeze state and holdings. */
  findAccount: operatorProcedure
    .input(z.object({ phone: z.string().trim().regex(PHONE_PATTERN, "auth.phone.invalid") }))
    .query(({ ctx, input }) => ctx.platform.ops.findAccount(ctx.platform.db, input.phone)),

  kycExceptions: operatorProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).default(100) }))
    .query(({ ctx, input }) => ctx.platform.ops.kycExceptions(ctx.platform.db, input.limit)),

  orders: operatorProcedure
    .input(
      z.object({
        status: z.enum(ORDER_STATUSES).optional(),
        orderNo: z
          .string()
          .regex(/^SZ\d{8}[0-9A-F]{12}$/)
          .optional(),
        limit: z.number().int().min(1).max(200).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.platform.ops.orders(ctx.platform.db, input)),
});
