import type { Db } from "../../db/client.js";
import type { CollectiblesService } from "../collectibles/service.js";
import type { DropsService } from "../drops/service.js";
import type { MintWorkerOptions } from "../minting/worker.js";
import type { PaymentsService } from "../payments/service.js";

/**
 * The back half of a purchase, in one owner: what a paid order becomes when
 * the mint worker plans its job (minting), lands its batch (minted, with its
 * tokens recorded for the holder), or parks it for good (undeliverable, and
 * refunded). The worker knows only jobs and batches; this service knows what
 * they mean for orders, collectibles and money. A refund is asked of the
 * provider only after the transaction that decided it has committed.
 */
export interface FulfilmentDependencies {
  drops: Pick<DropsService, "markMinting" | "markMinted" | "markUndeliverable">;
  collectibles: Pick<CollectiblesService, "recordMinted">;
  payments: Pick<PaymentsService, "requestRefundForFailedDelivery" | "startRefund">;
  /** Told what each round delivered (metrics). */
  onRound?: MintWorkerOptions["onRound"];
}

export type WorkerHooks = Pick<MintWorkerOptions, "onPlanned" | "onMinted" | "onParked" | "onRound" | "afterRound">;

export interface FulfilmentService {
  /** What the mint worker calls as it plans, lands and parks jobs. */
  workerHooks: WorkerHooks;
  /** Refunds decided in committed transactions and not yet asked of the provider. */
  refundsWaiting(): number;
}

export function createFulfilmentService(deps: FulfilmentDependencies): FulfilmentService {
  type Refund = Parameters<PaymentsService["startRefund"]>[0];
  // Filled inside a round's transactions, drained after the round (outside any transaction). Were the process
  // to stop in between, the refund is still recorded as requested and the refund resender asks for it.
  const refundsToStart: Refund[] = [];

  return {
    workerHooks: {
      onPlanned: (tx: Db, orderIds: number[]) => deps.drops.markMinting(tx, orderIds),
      async onMinted(tx, minted, txHash) {
        const buyers = await deps.drops.markMinted(
          tx,
          minted.map((m) => m.orderId),
          txHash ?? "",
        );
        await deps.collectibles.recordMinted(
          tx,
          minted.map((m) => ({ ...m, ownerUserId: buyers.get(m.orderId)! })).filter((m) => m.ownerUserId !== undefined),
          txHash,
        );
      },
      async onParked(tx, orderId, reason) {
        await deps.drops.markUndeliverable(tx, orderId, reason);
        const refund = await deps.payments.requestRefundForFailedDelivery(tx, orderId, reason);
        if (refund !== null) refundsToStart.push(refund);
      },
      ...(deps.onRound === undefined ? {} : { onRound: deps.onRound }),
      async afterRound() {
        for (const refund of refundsToStart.splice(0)) await deps.payments.startRefund(refund);
      },
    },
    refundsWaiting: () => refundsToStart.length,
  };
}
