import { ZeroHash } from "ethers";

import type { Chain } from "../../chain/client.js";
import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import { appendAudit } from "../audit/service.js";
import type { CatalogService } from "../catalog/service.js";
import type { CollectiblesService } from "../collectibles/service.js";
import type { IdentityService } from "../identity/service.js";
import type { PaymentsService } from "../payments/service.js";
import type { WalletService } from "../wallets/service.js";
import { ChainRefusal, performOnChain } from "./chain-work.js";
import { type EffectDependencies, applyEffects } from "./effects.js";
import {
  type ComplianceKind,
  type ComplianceRow,
  type ComplianceSubject,
  type Operator,
  actionById,
  auditSubjectOf,
  claimAction,
  dueActions,
  insertAction,
  listActions,
  lockAction,
  setStatus,
} from "./outbox.js";

/**
 * Compliance actions on chain, recorded first: each action's outbox row and its audit entry are written in
 * one transaction before the chain is asked; a sender then claims the row, checks the chain's state, acts
 * only when needed, and marks it done with its effects (takedown marks, closed sale, refunds) in one more
 * transaction. Freezes are queued at once; recoveries and takedowns need a second operator's approval.
 */

export interface ComplianceDependencies extends EffectDependencies {
  chain: Chain | null;
  wallets: Pick<WalletService, "addressOf">;
  catalog: EffectDependencies["catalog"] & Pick<CatalogService, "getPublished" | "titlesOf">;
  collectibles: EffectDependencies["collectibles"] & Pick<CollectiblesService, "tokenRecord">;
  payments: EffectDependencies["payments"] & Pick<PaymentsService, "startRefund">;
  identity: Pick<IdentityService, "findAccountById">;
  clock: () => Date;
}

/** The kinds that wait for a second operator. */
const FOUR_EYES: readonly ComplianceKind[] = ["token.recover", "token.takedown", "collection.takedown"];

export type ProcessOutcome = { actionId: number; status: ComplianceRow["status"]; txHash: string | null };

export function createComplianceService(deps: ComplianceDependencies) {
  function chainOrRefuse(): Chain {
    if (deps.chain === null) throw new AppError("ops.chainUnavailable");
    return deps.chain;
  }

  /** Sends one claimed row and records the outcome. */
  async function send(db: Db, row: ComplianceRow): Promise<ProcessOutcome> {
    const subject = row.subject as ComplianceSubject;
    let txHash: string | null;
    try {
      txHash = await performOnChain(chainOrRefuse(), row.kind, subject, row.reasonCode);
    } catch (error) {
      if (error instanceof ChainRefusal) {
        await db.transaction(async (tx) => {
          await setStatus(tx, row.id, { status: "failed", lastError: error.message, leaseUntil: null });
          await appendAudit(
            tx,
            {
              actor: { userId: null, role: "system" },
              action: "compliance.failed",
              subject: auditSubjectOf(row.kind, subject),
              details: { actionId: row.id, kind: row.kind },
            },
            deps.clock(),
          );
        });
        return { actionId: row.id, status: "failed", txHash: null };
      }
      // The node is away or slow: the row goes back to the queue; the next round checks the chain first.
      await setStatus(db, row.id, {
        status: "queued",
        lastError: String((error as Error)?.message ?? error).slice(0, 200),
        leaseUntil: null,
      });
      return { actionId: row.id, status: "queued", txHash: null };
    }
    const { refunds } = await db.transaction(async (tx) => {
      const current = await lockAction(tx, row.id);
      if (current.status !== "sending") return { refunds: [] };
      const landed = { ...current, txHash: txHash ?? current.txHash };
      await setStatus(tx, row.id, {
        status: "done",
        txHash: landed.txHash,
        completedAt: deps.clock(),
        leaseUntil: null,
      });
      const effects = await applyEffects(deps, tx, landed);
      await appendAudit(
        tx,
        {
          actor: { userId: null, role: "system" },
          action: "compliance.done",
          subject: auditSubjectOf(row.kind, subject),
          details: { actionId: row.id, kind: row.kind, txHash: landed.txHash, refunds: effects.refunds.length },
        },
        deps.clock(),
      );
      return effects;
    });
    for (const refund of refunds) await deps.payments.startRefund(refund);
    return { actionId: row.id, status: "done", txHash };
  }

  /** Claims and sends one action now; another sender holding it answers its current state. */
  async function process(db: Db, id: number): Promise<ProcessOutcome> {
    const claimed = await claimAction(db, id, deps.clock());
    if (claimed === null) {
      const row = await actionById(db, id);
      return { actionId: id, status: row.status, txHash: row.txHash };
    }
    return send(db, claimed);
  }

  /** Records an action (and its audit entry) in one transaction; freezes are then sent at once. */
  const record: RecordAction = async (db, operator, action, auditAction) => {
    const needsApproval = FOUR_EYES.includes(action.kind);
    const row = await db.transaction((tx) =>
      insertAction(tx, deps.clock(), operator, action, needsApproval, auditAction),
    );
    if (needsApproval) return { actionId: row.id, status: row.status, txHash: null };
    return process(db, row.id);
  };

  /** A second operator's decision on a request; the requester never decides their own. */
  async function decide(db: Db, operator: Operator, actionId: number, approve: boolean, reason?: string) {
    const decided = await db.transaction(async (tx) => {
      const row = await lockAction(tx, actionId);
      if (row.requestedBy === operator.id) throw new AppError("compliance.ownRequest");
      if (row.status !== "awaiting_approval") throw new AppError("compliance.alreadyDecided", { status: row.status });
      const at = deps.clock();
      await setStatus(tx, actionId, { status: approve ? "queued" : "rejected", decidedBy: operator.id, decidedAt: at });
      await appendAudit(
        tx,
        {
          actor: { userId: operator.id, role: operator.role },
          action: approve ? "compliance.approved" : "compliance.rejected",
          subject: auditSubjectOf(row.kind, row.subject as ComplianceSubject),
          details: { actionId, kind: row.kind, ...(reason === undefined ? {} : { reason }) },
        },
        at,
      );
      return row;
    });
    if (!approve) return { actionId: decided.id, status: "rejected", txHash: null } as ProcessOutcome;
    return process(db, actionId);
  }

  return {
    record,
    process,
    approve: (db: Db, operator: Operator, actionId: number) => decide(db, operator, actionId, true),
    reject: (db: Db, operator: Operator, actionId: number, reason: string) =>
      decide(db, operator, actionId, false, reason),

    /** One sender round: every queued action (and any whose sender died), oldest first. */
    async runOnce(db: Db, limit = 20): Promise<number> {
      const ids = await dueActions(db, deps.clock(), limit);
      for (const id of ids) await process(db, id);
      return ids.length;
    },

    /** The identity commitment of an account's address, for an identity freeze. */
    commitmentOf: (address: string) => commitmentOf(chainOrRefuse(), address),

    ...createRequests(deps, record, chainOrRefuse),
    ...createListing(deps),
  };
}

async function commitmentOf(chain: Chain, address: string): Promise<string> {
  const commitment = await chain.registry.identityOf(address).catch(() => {
    throw new AppError("ops.chainUnavailable");
  });
  if (commitment === ZeroHash) throw new AppError("ops.chainRefused");
  return commitment;
}

type RecordAction = (
  db: Db,
  operator: Operator,
  action: { kind: ComplianceKind; subject: ComplianceSubject; reasonCode: number; reason: string },
  auditAction: string,
) => Promise<ProcessOutcome>;

/** What operators ask for: a recovery (forced transfer) and a takedown, both waiting for a second operator. */
function createRequests(deps: ComplianceDependencies, record: RecordAction, chainOrRefuse: () => Chain) {
  /** A published collection that is not taken down, and one of its tokens still held. */
  async function liveToken(db: Db, collectionId: number, tokenId: number) {
    const { collection } = await deps.catalog.getPublished(db, collectionId);
    if (collection.takenDownAt !== null) throw new AppError("compliance.alreadyTakenDown");
    const token = await deps.collectibles.tokenRecord(db, collectionId, tokenId);
    if (token === null) throw new AppError("compliance.tokenNotFound");
    if (token.takenDownAt !== null) throw new AppError("compliance.alreadyTakenDown");
    return { collection, token };
  }

  /** What a recovery would do, in facts for its confirmation: who from, who to, same person or not. */
  async function recoveryFacts(db: Db, input: { collectionId: number; tokenId: number; toUserId: number }) {
    const { collection, token } = await liveToken(db, input.collectionId, input.tokenId);
    if (token.ownerUserId === input.toUserId) throw new AppError("compliance.sameHolder");
    const to = await deps.identity.findAccountById(db, input.toUserId);
    if (to === null) throw new AppError("ops.accountNotFound");
    const toAddress = await deps.wallets.addressOf(db, input.toUserId);
    if (toAddress === null) throw new AppError("ops.noCustodialAddress");
    const fromAddress = await deps.wallets.addressOf(db, token.ownerUserId);
    const registry = chainOrRefuse().registry;
    const [fromIdentity, toIdentity] = await Promise.all([
      fromAddress === null ? ZeroHash : registry.identityOf(fromAddress),
      registry.identityOf(toAddress),
    ]).catch(() => {
      throw new AppError("ops.chainUnavailable");
    });
    if (toIdentity === ZeroHash) throw new AppError("ops.chainRefused");
    const from = await deps.identity.findAccountById(db, token.ownerUserId);
    return {
      collection,
      subject: {
        collectionId: input.collectionId,
        tokenId: input.tokenId,
        contract: collection.contractAddress!,
        fromUserId: token.ownerUserId,
        toUserId: input.toUserId,
        toAddress,
        sameIdentity: fromIdentity === toIdentity,
      } satisfies ComplianceSubject,
      preview: {
        title: collection.title,
        tokenId: input.tokenId,
        fromMasked: from?.phoneMasked ?? "—",
        toMasked: to.phoneMasked,
        sameIdentity: fromIdentity === toIdentity,
      },
    };
  }

  return {
    previewRecovery: async (db: Db, input: { collectionId: number; tokenId: number; toUserId: number }) =>
      (await recoveryFacts(db, input)).preview,

    async requestRecovery(
      db: Db,
      operator: Operator,
      input: { collectionId: number; tokenId: number; toUserId: number; reasonCode: number; reason: string },
    ) {
      const { subject } = await recoveryFacts(db, input);
      return record(db, operator, { kind: "token.recover", subject, ...reasonOf(input) }, "compliance.requested");
    },

    async requestTakedown(
      db: Db,
      operator: Operator,
      input: { collectionId: number; tokenId?: number | undefined; reasonCode: number; reason: string },
    ) {
      const { collection } = await deps.catalog.getPublished(db, input.collectionId);
      if (collection.takenDownAt !== null) throw new AppError("compliance.alreadyTakenDown");
      if (input.tokenId !== undefined) await liveToken(db, input.collectionId, input.tokenId);
      const subject: ComplianceSubject = {
        collectionId: input.collectionId,
        contract: collection.contractAddress!,
        ...(input.tokenId === undefined ? {} : { tokenId: input.tokenId }),
      };
      const kind = input.tokenId === undefined ? "collection.takedown" : "token.takedown";
      return record(db, operator, { kind, subject, ...reasonOf(input) }, "compliance.requested");
    },
  };
}

const reasonOf = (input: { reasonCode: number; reason: string }) => ({
  reasonCode: input.reasonCode,
  reason: input.reason,
});

/** Requests and actions in words for the console: the collection's title, people by masked phone. */
function createListing(deps: ComplianceDependencies) {
  return {
    async list(db: Db, filter: "pending" | "all", limit: number) {
      const rows = await listActions(db, filter === "pending" ? ["awaiting_approval"] : null, limit);
      const titles = await deps.catalog.titlesOf(
        db,
        rows.map((row) => (row.subject as ComplianceSubject).collectionId).filter((id) => id !== undefined),
      );
      const masked = new Map<number, string>();
      const maskOf = async (userId: number | undefined | null) => {
        if (userId === undefined || userId === null) return null;
        if (!masked.has(userId))
          masked.set(userId, (await deps.identity.findAccountById(db, userId))?.phoneMasked ?? "—");
        return masked.get(userId)!;
      };
      const out = [];
      for (const row of rows) {
        const subject = row.subject as ComplianceSubject;
        out.push({
          id: row.id,
          kind: row.kind,
          status: row.status,
          reasonCode: row.reasonCode,
          reason: row.reason,
          collectionId: subject.collectionId ?? null,
          tokenId: subject.tokenId ?? null,
          title: subject.collectionId === undefined ? null : (titles.get(subject.collectionId)?.title ?? null),
          userMasked: await maskOf(subject.userId),
          fromMasked: await maskOf(subject.fromUserId),
          toMasked: await maskOf(subject.toUserId),
          sameIdentity: subject.sameIdentity ?? null,
          requestedBy: row.requestedBy,
          requestedByMasked: await maskOf(row.requestedBy),
          decidedByMasked: await maskOf(row.decidedBy),
          txHash: row.txHash,
          createdAt: row.createdAt,
          decidedAt: row.decidedAt,
          completedAt: row.completedAt,
        });
      }
      return out;
    },
  };
}

export type ComplianceService = ReturnType<typeof createComplianceService>;
