import { useMutation, useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";

import { Empty, FormError, Loading } from "../../components/States";
import { formatDateTime, formatFen } from "../../lib/format";
import { fieldErrors, useTRPC } from "../../lib/trpc";
import type { AppRouter } from "../../../../server/trpc/router";
import { ConfirmDialog, ReasonField } from "./Accounts";

const ORDER_STATES = ["created", "paid", "minting", "minted", "expired", "refunded"] as const;
type OrderState = (typeof ORDER_STATES)[number];
type OrderRow = inferRouterOutputs<AppRouter>["ops"]["orders"][number];

/**
 * Orders of every state with the item, its issuer and the masked buyer; a paid order not yet delivered is
 * refunded after a confirmation that says whose order, what and how much, and the result is said in words.
 */
export function Orders() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const [status, setStatus] = useState<OrderState | "">("");
  const [orderNo, setOrderNo] = useState("");
  const [query, setQuery] = useState<{ status?: OrderState; orderNo?: string }>({});
  const [reason, setReason] = useState("");
  const [pending, setPending] = useState<OrderRow | null>(null);
  const [done, setDone] = useState<string | null>(null);
  // Orders refunded here: their refund is requested, and the provider's answer moves them to 已退款.
  const [requested, setRequested] = useState<string[]>([]);
  const orders = useQuery(
    trpc.ops.orders.queryOptions(query, {
      // Until the provider has confirmed the refunds asked here, the list is read again every 2 s.
      refetchInterval: (q) =>
        q.state.data?.some((o) => requested.includes(o.orderNo) && o.status === "paid") === true ? 2_000 : false,
    }),
  );
  const refund = useMutation(trpc.payments.refund.mutationOptions({ onSuccess: () => void orders.refetch() }));
  const reasonError = fieldErrors(refund.error, i18n.language).reason;

  function onSearch(event: FormEvent) {
    event.preventDefault();
    setQuery({
      ...(status === "" ? {} : { status }),
      ...(orderNo.trim() === "" ? {} : { orderNo: orderNo.trim().toUpperCase() }),
    });
  }

  function words(order: OrderRow) {
    return {
      buyer: order.buyerMasked,
      orderNo: order.orderNo,
      title: order.title ?? `#${order.collectionId}`,
      quantity: order.quantity,
      amount: formatFen(order.amountFen),
    };
  }

  function confirm() {
    if (pending === null) return;
    const order = pending;
    setPending(null);
    refund.mutate(
      { orderNo: order.orderNo, reason: reason.trim() },
      {
        onSuccess: (result) => {
          setRequested((list) => [...list, order.orderNo]);
          setDone(t("ops.orders.refundDone", { ...words(order), refundNo: result.refundNo }));
        },
      },
    );
  }

  return (
    <div className="page">
      <form className="toolbar" onSubmit={onSearch}>
        <div className="field">
          <label htmlFor="ops-order-status">{t("ops.orders.status")}</label>
          <select id="ops-order-status" value={status} onChange={(e) => setStatus(e.target.value as OrderState | "")}>
            <option value="">{t("ops.orders.all")}</option>
            {ORDER_STATES.map((s) => (
              <option key={s} value={s}>
                {t(`order.status.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="ops-order-no">{t("ops.orders.orderNo")}</label>
          <input id="ops-order-no" className="mono" value={orderNo} onChange={(e) => setOrderNo(e.target.value)} />
        </div>
        <div className="field" style={{ flex: "0 0 auto" }}>
          <button type="submit" className="button secondary">
            {t("ops.orders.search")}
          </button>
        </div>
      </form>
      <ReasonField
        id="ops-refund-reason"
        label={t("ops.orders.refundReason")}
        value={reason}
        onChange={setReason}
        error={reasonError}
      />
      {pending !== null && (
        <ConfirmDialog
          id="ops-refund-confirm-text"
          testId="refund-confirm-dialog"
          onCancel={() => setPending(null)}
          onConfirm={confirm}
        >
          <p id="ops-refund-confirm-text" style={{ margin: 0, overflowWrap: "anywhere" }}>
            {t("ops.orders.confirmRefund", {
              ...words(pending),
              reason: reason.trim() === "" ? "—" : reason.trim(),
            })}
          </p>
        </ConfirmDialog>
      )}
      <FormError error={orders.error ?? refund.error} shown={["reason"]} />
      {done !== null && (
        <p role="status" data-testid="refund-done" style={{ overflowWrap: "anywhere" }}>
          {done}
        </p>
      )}
      {orders.isLoading && <Loading />}
      {orders.data?.length === 0 && <Empty>{t("ops.orders.none")}</Empty>}
      {orders.data !== undefined && orders.data.length > 0 && (
        <table className="data cards" data-testid="ops-orders">
          <thead>
            <tr>
              <th scope="col">{t("ops.orders.orderNo")}</th>
              <th scope="col">{t("ops.orders.item")}</th>
              <th scope="col">{t("ops.orders.buyer")}</th>
              <th scope="col">{t("ops.orders.amount")}</th>
              <th scope="col">{t("ops.orders.status")}</th>
              <th scope="col" />
            </tr>
          </thead>
          <tbody>
            {orders.data.map((o) => (
              <tr key={o.orderNo} data-testid="ops-order">
                <td className="mono" data-label={t("ops.orders.orderNo")}>
                  {o.orderNo}
                  <div className="muted">{formatDateTime(o.createdAt, i18n.language)}</div>
                </td>
                <td data-label={t("ops.orders.item")}>
                  {o.title ?? `#${o.collectionId}`} × {o.quantity}
                  {o.issuerName !== null && <div className="muted">{o.issuerName}</div>}
                </td>
                <td data-label={t("ops.orders.buyer")}>{o.buyerMasked}</td>
                <td data-label={t("ops.orders.amount")}>{formatFen(o.amountFen)}</td>
                <td data-label={t("ops.orders.status")} data-testid="ops-order-status">
                  {o.status === "paid" && requested.includes(o.orderNo)
                    ? t("ops.orders.refunding")
                    : t(`order.status.${o.status}`)}
                </td>
                <td>
                  {o.status === "paid" && !requested.includes(o.orderNo) && (
                    <button
                      type="button"
                      className="button ghost"
                      disabled={refund.isPending}
                      aria-label={t("ops.orders.refundOf", { orderNo: o.orderNo })}
                      onClick={() => {
                        setDone(null);
                        refund.reset();
                        setPending(o);
                      }}
                    >
                      {t("ops.orders.refund")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
