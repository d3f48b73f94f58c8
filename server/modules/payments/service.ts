import { and, eq, sql } from "drizzle-orm";

import type { Db } from "../../db/client.js";
import { AppError } from "../../errors.js";
import type { PaymentNotification, PaymentProvider, ProviderStatement } from "../../providers/payments/types.js";
import type { DropsService } from "../drops/service.js";
import { unpaidOrdersDue } from "../drops/sql.js";
import type { MintingService } from "../minting/service.js";
import type { WalletService } from "../wallets/service.js";
import { createNotifications } from "./notifications.js";
import { type ReconcileActor, reconcile, reconcileDay } from "./reconcile.js";
import { createRefunds } from "./refunds.js";
import { payments } from "./tables.js";

/**
 * Fiat payments, provider-agnostic, composed of their parts: notifications.ts (a notification is trusted
 * only after the provider's signature and app id check out, and then only if it names an order we issued,
 * for exactly its amount; handling is idempotent), refunds.ts (one way to request a refund, asked of the
 * provider after commit and again until confirmed) and reconcile.ts (the provider's daily statement). A
 * paid order writes its mint job in the same transaction; a payment that arrives after the order expired
 * is refunded automatically.
 */

export interface PaymentsDependencies {
  provider: PaymentProvider;
  drops: DropsService;
  wallets: WalletService;
  minting: MintingService;
  clock: () => Date;
  publicOrigin: string;
  /** Counts an operator alert (a partial or foreign refund, a signed notice whose amount is not ours, ...). */
  onAlert?: (reason: PaymentAlert) => void;
}

/** Why a notification or a provider answer needs an operator's eyes (each also written to the audit log). */
export type PaymentAlert =
  "refund-partial" | "refund-foreign" | "amount-mismatch" | "refunded-at-provider" | "merchant-mismatch";

export type NotificationOutcome =
  | { outcome: "applied" | "duplicate"; kind: PaymentNotification["kind"] | "refund-partial" }
  | { outcome: "refused"; reason: string };

export function createPaymentsService(deps: PaymentsDependencies) {
  const { provider } = deps;
  const refunds = createRefunds(deps);
  const notifications = createNotifications(deps, refunds.startRefund);

  return {
    /** The cashier for an order the collector holds: created once, then the same intent again. */
    async createIntent(db: Db, userId: number, orderNo: string) {
      const order = await deps.drops.order(db, userId, orderNo);
      // A free order (an airdrop's, or a ¥0 collection's) never reaches a cashier: providers take no ¥0 trade.
      if (order.amountFen <= 0 || order.airdropId !== null) throw new AppError("payments.freeOrder");
      if (order.status !== "created" || order.expiresAt <= deps.clock())
        throw new AppError("order.wrongState", { status: order.status });
      const [existing] = await db.select().from(payments).where(eq(payments.orderId, order.id));
      if (existing !== undefined) return existing;
      const intent = await provider.createIntent({
        outTradeNo: order.orderNo,
        amountFen: order.amountFen,
        subject: `数字藏品订单 ${order.orderNo}`,
        expiresAt: order.expiresAt,
        notifyUrl: `${deps.publicOrigin}/pay/notify/${provider.name}`,
      });
      await db
        .insert(payments)
        .values({
          orderId: order.id,
          provider: provider.name,
          outTradeNo: order.orderNo,
          amountFen: order.amountFen,
          qrCode: intent.qrCode,
          cashierPath: intent.cashierPath ?? null,
        })
        .onConflictDoNothing();
      const [row] = await db.select().from(payments).where(eq(payments.orderId, order.id));
      return row!;
    },

    ...notifications,

    /**
     * Before unpaid orders expire: asks the provider about each one that has a
     * cashier open (a payment whose notification is late is applied, not lost),
     * closes the trades still unpaid, then lets the drops module expire them.
     */
    async settleExpiring(db: Db): Promise<{ paidLate: number; expired: number }> {
      // A payment's trade number is its order's number.
      const due = await db
        .select({ orderNo: payments.outTradeNo })
        .from(payments)
        .where(and(eq(payments.status, "pending"), sql`${payments.orderId} in ${unpaidOrdersDue(deps.clock())}`))
        .limit(200);
      let paidLate = 0;
      for (const { orderNo } of due) {
        const found = await notifications.syncWithProvider(db, orderNo).catch(() => null);
        // Only a payment the provider reports as made counts; any other state (closed, refunded) is not paid.
        if (found?.outcome === "applied" && found.kind === "paid") paidLate++;
        else await provider.closeOrder(orderNo).catch(() => undefined);
      }
      return { paidLate, expired: await deps.drops.expireDue(db) };
    },

    reconcile: (db: Db, statement: ProviderStatement, day: string) => reconcile(deps, db, statement, day),

    ...refunds,

    reconcileDay: (db: Db, day: string, actor?: ReconcileActor) => reconcileDay(deps, db, day, actor),
  };
}

export type PaymentsService = ReturnType<typeof createPaymentsService>;
