import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";

import { formatFen } from "../lib/format";
import { takedownReason } from "./TakenDown";

/** An order's refund as the server tells its buyer (orders.mine / orders.get): no operator's words, no PII. */
export interface OrderRefundFacts {
  status: "requested" | "refunded" | "partial";
  amountFen: number;
  refundedFen: number;
  kind: "takedown" | "operator" | "delivery-failed" | "late-payment";
  reasonCode: number | null;
}

/**
 * The refund in words: its state and amount ("已下架，已退款 ¥19.90", "退款处理中 ¥19.90") and why (a takedown's
 * category, the same words as the verify page's, e.g. "下架原因：监管部门要求").
 */
export function refundWords(t: TFunction, refund: OrderRefundFacts): { state: string; reason: string } {
  const amounts = { amount: formatFen(refund.amountFen), refunded: formatFen(refund.refundedFen) };
  if (refund.kind !== "takedown")
    return { state: t(`order.refund.${refund.status}`, amounts), reason: t(`order.refund.reason.${refund.kind}`) };
  return {
    state: t(`order.refund.takenDown.${refund.status}`, amounts),
    reason:
      refund.reasonCode === null
        ? t("order.refund.reason.takedown")
        : t("order.refund.takedownReason", { reason: takedownReason(t, refund.reasonCode).reason }),
  };
}

/** The refund's state and amount, then why, as one status line (the order list and the order page). */
export function OrderRefund({ refund }: { refund: OrderRefundFacts }) {
  const { t } = useTranslation();
  const words = refundWords(t, refund);
  return (
    <p className="notice" role="status" data-testid="order-refund" data-refund-status={refund.status}>
      <strong>{words.state}</strong>
      <span className="muted"> · {words.reason}</span>
    </p>
  );
}
