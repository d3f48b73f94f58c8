import { useMutation, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { Countdown } from "../../components/Countdown";
import { OrderRefund } from "../../components/OrderRefund";
import { QrCode } from "../../components/QrCode";
import { RequireRole } from "../../components/RequireRole";
import { ErrorState, FormError, Loading } from "../../components/States";
import { formatFen, shortHash } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";

const PENDING = new Set(["created", "paid", "minting"]);

/** The reason the drops module writes when the collector cancels an unpaid order (server/modules/drops/lifecycle.ts). */
const CANCELLED_BY_COLLECTOR = "cancelled by the collector";

/** Whether the order was closed by its collector's cancellation rather than by its payment window ending. */
function cancelledByCollector(history: readonly { to: string; reason: string | null }[]): boolean {
  return history.some((entry) => entry.to === "expired" && entry.reason === CANCELLED_BY_COLLECTOR);
}

export function CheckoutPage() {
  return (
    <RequireRole role="collector">
      <Checkout />
    </RequireRole>
  );
}

function Checkout() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const orderNo = useParams().orderNo ?? "";
  const order = useQuery(
    trpc.orders.get.queryOptions(
      { orderNo },
      { refetchInterval: (query) => (PENDING.has(query.state.data?.status ?? "created") ? 2000 : false), staleTime: 0 },
    ),
  );
  const collection = useQuery(
    trpc.catalog.get.queryOptions(
      { collectionId: order.data?.collectionId ?? 0 },
      { enabled: order.data !== undefined },
    ),
  );
  const intent = useMutation(trpc.payments.createIntent.mutationOptions());
  const cancel = useMutation(trpc.orders.cancel.mutationOptions({ onSuccess: () => void order.refetch() }));

  if (order.isLoading) return <Loading />;
  if (order.error) return <ErrorState error={order.error} onRetry={() => void order.refetch()} />;
  const o = order.data!;
  const steps = ["created", "paid", "minting", "minted"] as const;
  const stepIndex = steps.indexOf(o.status as (typeof steps)[number]);

  return (
    <section className="page narrow">
      <h1>{t("checkout.title")}</h1>
      <ol className="tabs" aria-label={t("checkout.progress")} style={{ listStyle: "none", paddingLeft: 0 }}>
        {steps.map((step, i) => (
          <li key={step} aria-current={i === stepIndex ? "step" : undefined} className="muted" style={{ padding: 8 }}>
            {i <= stepIndex ? "● " : "○ "}
            {t(`checkout.step.${step}`)}
          </li>
        ))}
      </ol>
      <div className="card">
        <dl className="facts">
          <dt>{t("checkout.item")}</dt>
          <dd>{collection.data?.title ?? "\u00a0"}</dd>
          <dt>{t("checkout.orderNo")}</dt>
          <dd className="mono">{o.orderNo}</dd>
          <dt>{t("checkout.quantity")}</dt>
          <dd>{o.quantity}</dd>
          <dt>{t("checkout.editions")}</dt>
          <dd>{o.editions.join(", ") || "—"}</dd>
          <dt>{t("checkout.amount")}</dt>
          <dd className="price">{formatFen(o.amountFen)}</dd>
          <dt>{t("checkout.status")}</dt>
          <dd data-testid="order-status">{t(`order.status.${o.status}`)}</dd>
        </dl>
      </div>

      {o.status === "created" && (
        <div className="card page">
          <p>
            <Countdown target={o.expiresAt} label={t("checkout.payWithin")} onDone={() => void order.refetch()} />
          </p>
          {intent.data === undefined ? (
            <button
              type="button"
              className="button block"
              disabled={intent.isPending}
              onClick={() => intent.mutate({ orderNo: o.orderNo })}
            >
              {t("checkout.pay")}
            </button>
          ) : (
            <div className="page" style={{ alignItems: "center" }}>
              <QrCode value={intent.data.qrCode} label={t("checkout.qrLabel", { provider: intent.data.provider })} />
              <p className="muted">{t("checkout.scan", { provider: t(`provider.${intent.data.provider}`) })}</p>
              {intent.data.cashierPath !== null && intent.data.cashierPath !== undefined && (
                <a className="button secondary" href={intent.data.cashierPath} target="_blank" rel="noreferrer">
                  {t("checkout.openCashier")}
                </a>
              )}
            </div>
          )}
          <FormError error={intent.error ?? cancel.error} />
          <button
            type="button"
            className="button ghost"
            disabled={cancel.isPending}
            onClick={() => cancel.mutate({ orderNo: o.orderNo })}
          >
            {t("checkout.cancel")}
          </button>
        </div>
      )}
      {/* A refunded paid order is not delivered: no "minting" spinner beside its refund. */}
      {(o.status === "paid" || o.status === "minting") && o.refund === null && (
        <p className="notice" role="status">
          <span className="spinner" aria-hidden="true" />
          {t("checkout.minting")}
        </p>
      )}
      {o.status === "minted" && (
        <div className="card page" role="status">
          <p>
            <span className="badge ok">{t("checkout.mintedTitle")}</span>
          </p>
          <ul className="list">
            {o.minted.map((token) => (
              <li key={token.tokenId}>
                <Link to={`/me/t/${o.collectionId}/${token.tokenId}`} data-testid="minted-token">
                  {t("checkout.tokenLink", { tokenId: token.tokenId })}
                </Link>
                <div className="muted mono">
                  {token.txHash !== null && `tx ${shortHash(token.txHash)}`}
                  {token.blockNumber !== null && ` · ${t("checkout.block", { block: token.blockNumber })}`}
                </div>
              </li>
            ))}
          </ul>
        </div>
      )}
      {o.status === "expired" && (
        <p className="notice" data-testid="order-closed">
          {t(cancelledByCollector(o.history) ? "checkout.cancelledByYou" : "checkout.expired")}
        </p>
      )}
      {o.refund !== null ? (
        <OrderRefund refund={o.refund} />
      ) : (
        o.status === "refunded" && <p className="notice">{t("checkout.refunded")}</p>
      )}
      <Link to="/me?tab=orders">{t("checkout.myOrders")}</Link>
    </section>
  );
}
