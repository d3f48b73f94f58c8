import { z } from "zod";

import { operatorProcedure, router } from "../../trpc/init.js";
import { recentAudit, verifyAuditChain } from "./service.js";

export const auditRouter = router({
  /** Re-checks the whole hash chain. */
  verify: operatorProcedure.query(({ ctx }) => verifyAuditChain(ctx.platform.db)),

  recent: operatorProcedure
    .input(
      z.object({ limit: z.number().int().min(1).max(200).default(50), beforeSeq: z.number().int().min(1).optional() }),
    )
    .query(({ ctx, input }) => recentAudit(ctx.platform.db, input.limit, input.beforeSeq)),
});
