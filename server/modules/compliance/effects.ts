import type { Db } from "../../db/client.js";
import type { CatalogService } from "../catalog/service.js";
import type { CollectiblesService } from "../collectibles/service.js";
import type { DropsService } from "../drops/service.js";
import type { MintingService } from "../minting/service.js";
import type { PaymentsService } from "../payments/service.js";
import type { RefundRequest } from "../payments/refunds.js";
import type { ComplianceRow, ComplianceSubject } from "./outbox.js";

/**
 * What a compliance action that landed on chain changes in the other modules, through their services, in
 * the transaction that marks it done. A takedown: the collection or token marked taken down (catalog,
 * collectibles), its sale closed (drops: unpaid orders cancelled, reservations refused), pending deliveries
 * parked (minting) and what buyers paid refunded (payments) by the policy in docs/compliance.md.
 */

export interface EffectDependencies {
  catalog: Pick<CatalogService, "recordTakenDown">;
  collectibles: Pick<CollectiblesService, "recordRecovered" | "recordTakenDown">;
  drops: Pick<DropsService, "closeSale" | "settledOrdersOf" | "orderById">;
  minting: Pick<MintingService, "lockJobOf" | "park">;
  payments: Pick<PaymentsService, "requestTakedownRefund">;
}

const SYSTEM = { userId: null, role: "system" } as const;

async function takedownCollection(deps: EffectDependencies, tx: Db, row: ComplianceRow, subject: ComplianceSubject) {
  const collectionId = subject.collectionId!;
  const takedown = { reasonCode: row.reasonCode, txHash: row.txHash };
  await deps.catalog.recordTakenDown(tx, collectionId, takedown);
  await deps.collectibles.recordTakenDown(tx, collectionId, null, takedown);
  const cancelled = await deps.drops.closeSale(tx, collectionId, `taken down (action ${row.id})`);
  const refunds: RefundRequest[] = [];
  for (const order of await deps.drops.settledOrdersOf(tx, collectionId)) {
    if (order.status === "paid") {
      // Not delivered yet: its delivery stops here (the contract would refuse the mint anyway).
      const job = await deps.minting.lockJobOf(tx, order.id);
      if (job?.status === "pending") await deps.minting.park(tx, job.id, "collection taken down");
    }
    const refund = await deps.payments.requestTakedownRefund(tx, {
      orderId: order.id,
      editions: order.quantity,
      quantity: order.quantity,
      reasonCode: row.reasonCode,
      reason: `collection ${collectionId} taken down`,
      actor: SYSTEM,
    });
    if (refund !== null) refunds.push(refund);
  }
  return { refunds, cancelledOrders: cancelled };
}

async function takedownToken(deps: EffectDependencies, tx: Db, row: ComplianceRow, subject: ComplianceSubject) {
  const marked = await deps.collectibles.recordTakenDown(tx, subject.collectionId!, subject.tokenId!, {
    reasonCode: row.reasonCode,
    txHash: row.txHash,
  });
  const refunds: RefundRequest[] = [];
  for (const token of marked) {
    // The order that bought the token, whoever holds it now (a gift's recipient did not pay): its buyer is
    // refunded. An airdropped or free token has no payment and so no refund.
    if (token.orderId === null) continue;
    const order = await deps.drops.orderById(tx, token.orderId);
    if (order === undefined) continue;
    const refund = await deps.payments.requestTakedownRefund(tx, {
      orderId: order.id,
      editions: 1,
      quantity: order.quantity,
      reasonCode: row.reasonCode,
      reason: `token ${subject.collectionId}#${subject.tokenId} taken down`,
      actor: SYSTEM,
    });
    if (refund !== null) refunds.push(refund);
  }
  return { refunds, cancelledOrders: 0 };
}

/** Applies a landed action's effects in `tx`; answers the refunds to ask the provider for after commit. */
export async function applyEffects(deps: EffectDependencies, tx: Db, row: ComplianceRow) {
  const subject = row.subject as ComplianceSubject;
  switch (row.kind) {
    case "token.recover":
      await deps.collectibles.recordRecovered(tx, subject.collectionId!, subject.tokenId!, subject.toUserId!);
      return { refunds: [], cancelledOrders: 0 };
    case "collection.takedown":
      return takedownCollection(deps, tx, row, subject);
    case "token.takedown":
      return takedownToken(deps, tx, row, subject);
    default:
      return { refunds: [], cancelledOrders: 0 };
  }
}
