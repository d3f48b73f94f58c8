import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import {
  collectorProcedure,
  operatorProcedure,
  publicProcedure,
  requireStepUp,
  router,
  verifiedCollectorProcedure,
} from "../../trpc/init.js";

const id = safe.id();
const tokenId = safe.int(1, 16_777_215);
const recipient = safe.text({ max: 20, example: "13900000000" });

export const collectiblesRouter = router({
  mine: collectorProcedure.query(({ ctx }) => ctx.platform.collectibles.mine(ctx.platform.db, ctx.user.id)),

  certificate: collectorProcedure
    .input(z.object({ collectionId: id, tokenId }))
    .query(({ ctx, input }) =>
      ctx.platform.collectibles.certificate(ctx.platform.db, ctx.user.id, input.collectionId, input.tokenId),
    ),

  gifts: collectorProcedure.query(({ ctx }) => ctx.platform.collectibles.giftHistory(ctx.platform.db, ctx.user.id)),
});

export const verifyRouter = router({
  /** Anyone, with a contract address and token id (or a certificate link): the chain's facts. */
  token: publicProcedure
    .input(
      z.object({
        contractAddress: safe.pattern(/^0x[0-9a-fA-F]{40}$/, "collectible.notFound", `0x${"0".repeat(40)}`),
        tokenId,
      }),
    )
    .query(({ ctx, input }) => ctx.platform.collectibles.verify(input.contractAddress, input.tokenId)),
});

export const giftsRouter = router({
  /** Who a phone number or collector id belongs to, as a masked name the sender must confirm. */
  lookup: verifiedCollectorProcedure
    .input(z.object({ recipient }))
    .mutation(({ ctx, input }) =>
      ctx.platform.collectibles.lookupRecipient(ctx.platform.db, ctx.user, input.recipient),
    ),

  /** Gives a collectible away. There is no price: a gift is free. Each gift needs its own step-up code. */
  send: verifiedCollectorProcedure
    .input(
      z.object({ collectionId: id, tokenId, recipient, confirmNameMasked: safe.text({ max: 40, example: "王*明" }) }),
    )
    .use(requireStepUp("gift"))
    .mutation(({ ctx, input }) => ctx.platform.collectibles.gift(ctx.platform.db, ctx.user, input)),

  /** Operators suspend gifting for an account flagged for off-platform resale (audited), or restore it. */
  suspend: operatorProcedure
    .input(
      z.object({
        userId: id,
        suspended: z.boolean(),
        reason: safe.text({ min: 2, max: 200 }),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      await ctx.platform.collectibles.suspendGifting(
        ctx.platform.db,
        ctx.user,
        input.userId,
        input.suspended,
        input.reason,
      );
      return { ok: true as const };
    }),
});
