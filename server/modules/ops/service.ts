import { and, desc, eq, ne, sql } from "drizzle-orm";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { orders } from "../drops/tables.js";
import { users } from "../identity/tables.js";
import { kycAttempts } from "../kyc/tables.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { CatalogService } from "../catalog/service.js";
import type { SessionUser } from "../identity/service.js";
import type { WalletService } from "../wallets/service.js";

/**
 * What platform operators do beyond reviews: freeze an account's address in
 * the identity registry or a single token in its collection (the chain then
 * refuses every transfer to, from or of it), see failed verifications, and
 * find orders to refund. Every change is audited with its reason.
 */
export interface OpsDependencies {
  chain: Chain | null;
  wallets: WalletService;
  catalog: CatalogService;
  clock: () => Date;
}

/** Reason codes written on chain; the words stay in the audit log. */
const REASON_OPERATOR = 1;

type Operator = Pick<SessionUser, "id" | "role">;

export function createOpsService(deps: OpsDependencies) {
  function chainOrRefuse(): Chain {
    if (deps.chain === null) throw new AppError("ops.chainUnavailable");
    return deps.chain;
  }

  async function sendCompliance(build: Parameters<Chain["send"]>[1]) {
    try {
      return await chainOrRefuse().send("compliance", build);
    } catch (error) {
      if (error instanceof AppError) throw error;
      const reverted = /revert|CALL_EXCEPTION/i.test(String((error as Error).message ?? error));
      throw new AppError(reverted ? "ops.chainRefused" : "ops.chainUnavailable");
    }
  }

  return {
    async freezeAccount(db: Db, operator: Operator, input: { userId: number; frozen: boolean; reason: string }) {
      const [account] = await db.select({ id: users.id }).from(users).where(eq(users.id, input.userId));
      if (account === undefined) throw new AppError("ops.accountNotFound");
      const address = await deps.wallets.addressOf(db, input.userId);
      if (address === null) throw new AppError("ops.noCustodialAddress");
      const receipt = await sendCompliance(({ registry }, overrides) =>
        input.frozen
          ? registry.freeze(address, REASON_OPERATOR, overrides)
          : registry.unfreeze(address, REASON_OPERATOR, overrides),
      );
      await appendAudit(
        db,
        {
          actor: { userId: operator.id, role: operator.role },
          action: input.frozen ? "account.frozen" : "account.unfrozen",
          subject: { type: "user", id: input.userId },
          details: { reason: input.reason, txHash: receipt.hash },
        },
        deps.clock(),
      );
      return { txHash: receipt.hash };
    },

    async freezeToken(
      db: Db,
      operator: Operator,
      input: { collectionId: number; tokenId: number; frozen: boolean; reason: string },
    ) {
      const contract = await deps.catalog.contractOf(db, input.collectionId);
      const receipt = await sendCompliance(({ collection }, overrides) =>
        input.frozen
          ? collection(contract).freezeToken(input.tokenId, REASON_OPERATOR, overrides)
          : collection(contract).unfreezeToken(input.tokenId, REASON_OPERATOR, overrides),
      );
      await appendAudit(
        db,
        {
          actor: { userId: operator.id, role: operator.role },
          action: input.frozen ? "token.frozen" : "token.unfrozen",
          subject: { type: "collection", id: input.collectionId },
          details: { tokenId: input.tokenId, reason: input.reason, txHash: receipt.hash },
        },
        deps.clock(),
      );
      return { txHash: receipt.hash };
    },

    /** Verifications that did not pass (mismatch, provider down, refused): account id, outcome, reason code, time. */
    async kycExceptions(db: Db, limit: number) {
      return db
        .select({
          userId: kycAttempts.userId,
          outcome: kycAttempts.outcome,
          reason: kycAttempts.reason,
          at: kycAttempts.createdAt,
        })
        .from(kycAttempts)
        .where(ne(kycAttempts.outcome, "verified"))
        .orderBy(desc(kycAttempts.id))
        .limit(limit);
    },

    /** Orders by state, newest first, for refunds and follow-up (no personal data). */
    async orders(db: Db, input: { status?: string | undefined; orderNo?: string | undefined; limit: number }) {
      const conditions = [
        ...(input.status === undefined ? [] : [sql`${orders.status} = ${input.status}`]),
        ...(input.orderNo === undefined ? [] : [eq(orders.orderNo, input.orderNo)]),
      ];
      return db
        .select({
          orderNo: orders.orderNo,
          userId: orders.userId,
          collectionId: orders.collectionId,
          quantity: orders.quantity,
          amountFen: orders.amountFen,
          status: orders.status,
          createdAt: orders.createdAt,
          paidAt: orders.paidAt,
        })
        .from(orders)
        .where(conditions.length === 0 ? undefined : and(...conditions))
        .orderBy(desc(orders.id))
        .limit(input.limit);
    },
  };
}

export type OpsService = ReturnType<typeof createOpsService>;
