import { z } from "zod";

import { safe } from "../../../shared/validation.js";

import { operatorProcedure, router } from "../../trpc/init.js";
import { reasonCode, reasonText } from "./text.js";

const id = safe.id();
const tokenId = safe.int(1, 16_777_215);

/**
 * Recovery (forced transfer) and takedown, by four eyes: one operator requests with a reason code and
 * words, another approves or rejects; only an approved action is sent to the chain. Every step is audited.
 */
export const complianceRouter = router({
  /** What a recovery would do, for its confirmation: the token, the holder and the target (masked), same person or not. */
  previewRecovery: operatorProcedure
    .input(z.object({ collectionId: id, tokenId, toUserId: id }))
    .query(({ ctx, input }) => ctx.platform.compliance.previewRecovery(ctx.platform.db, input)),

  /** Asks for a token to be moved to another account (a lost phone, a court order); waits for a second operator. */
  requestRecovery: operatorProcedure
    .input(z.object({ collectionId: id, tokenId, toUserId: id, reasonCode, reason: reasonText }))
    .mutation(({ ctx, input }) => ctx.platform.compliance.requestRecovery(ctx.platform.db, ctx.user, input)),

  /** Asks for a collection (or one token of it) to be taken down; waits for a second operator. */
  requestTakedown: operatorProcedure
    .input(z.object({ collectionId: id, tokenId: tokenId.optional(), reasonCode, reason: reasonText }))
    .mutation(({ ctx, input }) => ctx.platform.compliance.requestTakedown(ctx.platform.db, ctx.user, input)),

  /** Another operator approves: the action is queued and sent. */
  approve: operatorProcedure
    .input(z.object({ actionId: id }))
    .mutation(({ ctx, input }) => ctx.platform.compliance.approve(ctx.platform.db, ctx.user, input.actionId)),

  /** Another operator rejects, with a reason: nothing is sent. */
  reject: operatorProcedure
    .input(z.object({ actionId: id, reason: reasonText }))
    .mutation(({ ctx, input }) =>
      ctx.platform.compliance.reject(ctx.platform.db, ctx.user, input.actionId, input.reason),
    ),

  /** Requests waiting for a decision (pending), or every action, newest first. */
  list: operatorProcedure
    .input(
      z.object({
        filter: z.enum(["pending", "all"]).default("pending"),
        limit: safe.int(1, 200, 50).default(50),
      }),
    )
    .query(({ ctx, input }) => ctx.platform.compliance.list(ctx.platform.db, input.filter, input.limit)),
});
