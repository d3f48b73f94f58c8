import { ZeroHash } from "ethers";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { listOrders } from "../drops/reports.js";
import { kycExceptions } from "../kyc/reports.js";
import { AppError } from "../../errors.js";
import type { CatalogService } from "../catalog/service.js";
import type { IdentityService, SessionUser } from "../identity/service.js";
import type { WalletService } from "../wallets/service.js";
import type { KycService } from "../kyc/service.js";
import type { CollectiblesService } from "../collectibles/service.js";
import type { ComplianceService } from "../compliance/service.js";
import { REASON_CODES } from "../compliance/text.js";

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
  identity: Pick<IdentityService, "findAccountById" | "findAccountByPhone" | "isGiftingSuspended">;
  kyc: Pick<KycService, "status">;
  collectibles: Pick<CollectiblesService, "mine" | "holderOf">;
  compliance: Pick<ComplianceService, "record" | "commitmentOf">;
  clock: () => Date;
}

/** The reason code written on chain for an operator's freeze; the words stay in the audit log. */
const REASON_OPERATOR = REASON_CODES.operator;

type Operator = Pick<SessionUser, "id" | "role">;

/** Whether the person behind an account is frozen in the identity registry; null when unknown (no address, no chain). */
async function frozenState(deps: OpsDependencies, db: Db, userId: number): Promise<boolean | null> {
  const address = await deps.wallets.addressOf(db, userId);
  if (address === null || deps.chain === null) return null;
  try {
    const commitment = await deps.chain.registry.identityOf(address);
    if (commitment === ZeroHash) return null;
    return await deps.chain.registry.isIdentityFrozen(commitment);
  } catch {
    return null;
  }
}

/**
 * What a token freeze would act on, said before it acts: the collection's title, the token and its holder's
 * masked phone, and whether the chain has it frozen now (null when the chain cannot say).
 */
async function tokenForFreeze(deps: OpsDependencies, db: Db, input: { collectionId: number; tokenId: number }) {
  const contract = await deps.catalog.contractOf(db, input.collectionId);
  const holder = await deps.collectibles.holderOf(db, input.collectionId, input.tokenId);
  if (holder === null) throw new AppError("ops.tokenNotFound");
  const title = (await deps.catalog.titlesOf(db, [input.collectionId])).get(input.collectionId);
  const account = await deps.identity.findAccountById(db, holder);
  const frozen =
    deps.chain === null
      ? null
      : await deps.chain
          .collection(contract)
          .isTokenFrozen(input.tokenId)
          .catch(() => null);
  return {
    collectionId: input.collectionId,
    tokenId: input.tokenId,
    title: title?.title ?? "",
    issuerName: title?.issuerName ?? "",
    holderMasked: account?.phoneMasked ?? "—",
    frozen,
  };
}

export function createOpsService(deps: OpsDependencies) {
  return {
    /**
     * Freezes or unfreezes the person behind an account: every address of their identity, now and bound
     * later. Recorded first (outbox row and audit entry in one transaction), then sent.
     */
    async freezeAccount(db: Db, operator: Operator, input: { userId: number; frozen: boolean; reason: string }) {
      if ((await deps.identity.findAccountById(db, input.userId)) === null) throw new AppError("ops.accountNotFound");
      const address = await deps.wallets.addressOf(db, input.userId);
      if (address === null) throw new AppError("ops.noCustodialAddress");
      const commitment = await deps.compliance.commitmentOf(address);
      return deps.compliance.record(
        db,
        operator,
        {
          kind: input.frozen ? "identity.freeze" : "identity.unfreeze",
          subject: { userId: input.userId, commitment },
          reasonCode: REASON_OPERATOR,
          reason: input.reason,
        },
        input.frozen ? "account.frozen" : "account.unfrozen",
      );
    },

    /** Freezes or unfreezes one token in its collection contract, recorded first. */
    async freezeToken(
      db: Db,
      operator: Operator,
      input: { collectionId: number; tokenId: number; frozen: boolean; reason: string },
    ) {
      const contract = await deps.catalog.contractOf(db, input.collectionId);
      return deps.compliance.record(
        db,
        operator,
        {
          kind: input.frozen ? "token.freeze" : "token.unfreeze",
          subject: { collectionId: input.collectionId, tokenId: input.tokenId, contract },
          reasonCode: REASON_OPERATOR,
          reason: input.reason,
        },
        input.frozen ? "token.frozen" : "token.unfrozen",
      );
    },

    tokenForFreeze: (db: Db, input: { collectionId: number; tokenId: number }) => tokenForFreeze(deps, db, input),

    /** Verifications that did not pass (mismatch, provider down, refused): the KYC module's report. */
    kycExceptions: (db: Db, limit: number) => kycExceptions(db, limit),

    /** Orders by state, newest first, with the collection's title and the buyer's masked phone. */
    async orders(db: Db, input: Parameters<typeof listOrders>[1]) {
      const rows = await listOrders(db, input);
      const titles = await deps.catalog.titlesOf(
        db,
        rows.map((row) => row.collectionId),
      );
      const buyers = new Map<number, string>();
      for (const userId of new Set(rows.map((row) => row.userId))) {
        buyers.set(userId, (await deps.identity.findAccountById(db, userId))?.phoneMasked ?? "—");
      }
      return rows.map((row) => ({
        ...row,
        title: titles.get(row.collectionId)?.title ?? null,
        issuerName: titles.get(row.collectionId)?.issuerName ?? null,
        buyerMasked: buyers.get(row.userId) ?? "—",
      }));
    },

    /** One account found by phone: masked phone, verification, freeze state on chain, orders and collectibles. */
    async findAccount(db: Db, phone: string) {
      const account = await deps.identity.findAccountByPhone(db, phone);
      if (account === null) throw new AppError("ops.accountNotFound");
      const kyc = await deps.kyc.status(db, account.id);
      return {
        id: account.id,
        role: account.role,
        phoneMasked: account.phoneMasked,
        status: account.status,
        giftingSuspended: await deps.identity.isGiftingSuspended(db, account.id),
        verification: {
          state: kyc.state,
          nameMasked: kyc.nameMasked ?? null,
          idNumberMasked: kyc.idNumberMasked ?? null,
          expiresAt: kyc.expiresAt ?? null,
        },
        frozen: await frozenState(deps, db, account.id),
        orders: await this.orders(db, { userId: account.id, limit: 20 }),
        collectibles: (await deps.collectibles.mine(db, account.id)).map((token) => ({
          collectionId: token.collectionId,
          tokenId: token.tokenId,
          title: token.title,
          issuerName: token.issuerName,
          acquiredAt: token.acquiredAt,
        })),
      };
    },
  };
}

export type OpsService = ReturnType<typeof createOpsService>;
