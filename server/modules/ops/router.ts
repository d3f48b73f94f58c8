import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import { ORDER_STATUSES } from "../drops/reports.js";
import { operatorProcedure, router } from "../../trpc/init.js";
import { reasonText as reason } from "../compliance/text.js";
import { PHONE_PATTERN } from "../identity/service.js";

export const opsRouter = router({
  /** Freezes or unfreezes an account's identity in the on-chain registry (recorded and audited first, then sent). */
  freezeAccount: operatorProcedure
    .input(z.object({ userId: safe.id(), frozen: z.boolean(), reason }))
    .mutation(async ({ ctx, input }) => {
      // Credentials go first: a freeze that then fails on chain leaves them revoked, never the other way.
      if (input.frozen) await ctx.platform.credentials.revokeForAccount(ctx.platform.db, input.userId, "frozen");
      return ctx.platform.ops.freezeAccount(ctx.platform.db, ctx.user, input);
    }),

  /** Freezes or unfreezes one token in its collection contract (audited). */
  freezeToken: operatorProcedure
    .input(
      z.object({
        collectionId: safe.id(),
        tokenId: safe.int(1, 16_777_215),
        frozen: z.boolean(),
        reason,
      }),
    )
    .mutation(({ ctx, input }) => ctx.platform.ops.freezeToken(ctx.platform.db, ctx.user, input)),

  /** The token a freeze would act on, in words for the confirmation: collection title, holder's masked phone. */
  tokenForFreeze: operatorProcedure
    .input(z.object({ collectionId: safe.id(), tokenId: safe.int(1, 16_777_215) }))
    .query(({ ctx, input }) => ctx.platform.ops.tokenForFreeze(ctx.platform.db, input)),

  /** Finds an account by its phone number (answered masked) with its verification, freeze state and holdings. */
  findAccount: operatorProcedure
    .input(z.object({ phone: safe.pattern(PHONE_PATTERN, "auth.phone.invalid", "13900000000") }))
    .query(({ ctx, input }) => ctx.platform.ops.findAccount(ctx.platform.db, input.phone)),

  kycExceptions: operatorProcedure
    .input(z.object({ limit: safe.int(1, 500).default(100) }))
    .query(({ ctx, input }) => ctx.platform.ops.kycExceptions(ctx.platform.db, input.limit)),

  orders: operatorProcedure
    .input(
      z.object({
        status: z.enum(ORDER_STATUSES).optional(),
        orderNo: safe.pattern(/^SZ\d{8}[0-9A-F]{12}$/, undefined, "SZ20261124000000000000").optional(),
        limit: safe.int(1, 200).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.platform.ops.orders(ctx.platform.db, input)),
});
