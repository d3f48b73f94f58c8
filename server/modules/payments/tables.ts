import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, pgTable, smallint, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

import { createdAt } from "../../db/columns.js";
import { orders } from "../drops/tables.js";

/**
 * The tables the payments module owns. Only this module reads or writes them;
 * others ask its service. (Other modules' tables appear here only as foreign keys.)
 */

export const payments = pgTable(
  "payments",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    orderId: bigint("order_id", { mode: "number" })
      .notNull()
      .references(() => orders.id),
    provider: text("provider").notNull(),
    outTradeNo: text("out_trade_no").notNull(),
    /** Integer fen, 64-bit (at most 2^53 - 1 as a JavaScript number). */
    amountFen: bigint("amount_fen", { mode: "number" }).notNull(),
    status: text("status", { enum: ["pending", "paid", "refunded"] })
      .notNull()
      .default("pending"),
    tradeNo: text("trade_no"),
    qrCode: text("qr_code").notNull(),
    cashierPath: text("cashier_path"),
    paidAt: timestamp("paid_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("payments_order_key").on(t.orderId),
    uniqueIndex("payments_out_trade_no_key").on(t.outTradeNo),
    check("payments_status_check", sql`${t.status} in ('pending', 'paid', 'refunded')`),
    check("payments_amount_check", sql`${t.amountFen} >= 0`),
  ],
);

/** Every notification received, accepted or not (no personal data): the evidence for disputes and figures. */
export const paymentNotifications = pgTable(
  "payment_notifications",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    provider: text("provider").notNull(),
    notifyId: text("notify_id"),
    outTradeNo: text("out_trade_no"),
    kind: text("kind"),
    outcome: text("outcome", { enum: ["applied", "duplicate", "refused"] }).notNull(),
    reason: text("reason").notNull().default(""),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    index("payment_notifications_trade_idx").on(t.outTradeNo),
    check("payment_notifications_outcome_check", sql`${t.outcome} in ('applied', 'duplicate', 'refused')`),
  ],
);

export const refunds = pgTable(
  "refunds",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    orderId: bigint("order_id", { mode: "number" })
      .notNull()
      .references(() => orders.id),
    refundNo: text("refund_no").notNull(),
    /** Integer fen, 64-bit (at most 2^53 - 1 as a JavaScript number). */
    amountFen: bigint("amount_fen", { mode: "number" }).notNull(),
    /**
     * `partial`: the provider reported a refund of less than ours (or under another refund number); the order
     * stays paid and an operator is alerted. Only a refund of exactly our number and amount is `succeeded`.
     */
    status: text("status", { enum: ["requested", "partial", "succeeded"] })
      .notNull()
      .default("requested"),
    /** What the provider last reported refunded, when it differed from ours. */
    reportedFen: bigint("reported_fen", { mode: "number" }),
    reason: text("reason").notNull(),
    /** Why the refund was made, as its buyer is told: a takedown, an operator, a failed delivery, a late payment. */
    kind: text("kind", { enum: ["takedown", "operator", "delivery-failed", "late-payment"] })
      .notNull()
      .default("operator"),
    /** A takedown's category (its on-chain reason code, 1–9); null for every other kind. */
    reasonCode: smallint("reason_code"),
    requestedBy: bigint("requested_by", { mode: "number" }),
    createdAt: createdAt(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("refunds_refund_no_key").on(t.refundNo),
    uniqueIndex("refunds_order_key").on(t.orderId),
    check("refunds_status_check", sql`${t.status} in ('requested', 'partial', 'succeeded')`),
    check("refunds_amount_check", sql`${t.amountFen} > 0`),
    check("refunds_kind_check", sql`${t.kind} in ('takedown', 'operator', 'delivery-failed', 'late-payment')`),
    check(
      "refunds_reason_code_check",
      sql`(${t.kind} = 'takedown' or ${t.reasonCode} is null) and (${t.reasonCode} is null or ${t.reasonCode} between 1 and 9)`,
    ),
  ],
);
