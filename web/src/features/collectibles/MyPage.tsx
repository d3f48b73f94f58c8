import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate, useSearchParams } from "react-router";

import { MediaView } from "../../components/MediaView";
import { OrderRefund } from "../../components/OrderRefund";
import { RequireRole } from "../../components/RequireRole";
import { Empty, ErrorState, FormError, Loading } from "../../components/States";
import { StepUpGate, withoutStepUp } from "../../components/StepUp";
import { formatDateTime, formatFen } from "../../lib/format";
import { useKycStatus, useMe } from "../../lib/session";
import { useTRPC } from "../../lib/trpc";

const TABS = ["collectibles", "orders", "gifts", "account"] as const;
type Tab = (typeof TABS)[number];

export function MyPage() {
  return (
    <RequireRole role="collector">
      <Mine />
    </RequireRole>
  );
}

function Mine() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS as readonly string[]).includes(params.get("tab") ?? "")
    ? (params.get("tab") as Tab)
    : "collectibles";
  const kyc = useKycStatus(true);

  return (
    <section className="page">
      <h1>{t("mine.title")}</h1>
      {kyc.data !== undefined && kyc.data.state !== "verified" && (
        <p className="notice">
          {t("mine.verifyFirst")} <Link to="/me/verify">{t("mine.verifyLink")}</Link>
        </p>
      )}
      <div className="tabs" role="tablist" aria-label={t("mine.title")}>
        {TABS.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls={`panel-${name}`}
            onClick={() => setParams({ tab: name })}
          >
            {t(`mine.tab.${name}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "collectibles" && <Collectibles />}
        {tab === "orders" && <Orders />}
        {tab === "gifts" && <Gifts />}
        {tab === "account" && <Account />}
      </div>
    </section>
  );
}

function Collectibles() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const mine = useQuery(trpc.collectibles.mine.queryOptions());
  if (mine.isLoading) return <Loading />;
  if (mine.error) return <ErrorState error={mine.error} onRetry={() => void mine.refetch()} />;
  if (mine.data!.length === 0) {
    return (
      <Empty>
        {t("mine.none")} <Link to="/">{t("mine.browse")}</Link>
      </Empty>
    );
  }
  return (
    <ul className="grid" style={{ listStyle: "none", padding: 0, margin: 0 }}>
      {mine.data!.map((token) => (
        <li key={`${token.collectionId}-${token.tokenId}`}>
          <Link to={`/me/t/${token.collectionId}/${token.tokenId}`} className="tile" data-testid="my-collectible">
            <MediaView
              url={`/media/${token.mediaSha256}`}
              type={token.mediaType}
              alt={token.title}
              variant="thumb"
              image={
                token.mediaWidth === null || token.mediaHeight === null || token.mediaVariantWidths === null
                  ? null
                  : { width: token.mediaWidth, height: token.mediaHeight, variantWidths: token.mediaVariantWidths }
              }
            />
            <div className="tile-body">
              <h2 className="tile-title">{token.title}</h2>
              <span className="muted">{token.issuerName}</span>
              <span className="muted">
                #{token.tokenId} / {token.editionSize}
              </span>
            </div>
          </Link>
        </li>
      ))}
    </ul>
  );
}

function Orders() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const orders = useQuery(trpc.orders.mine.queryOptions());
  if (orders.isLoading) return <Loading />;
  if (orders.error) return <ErrorState error={orders.error} onRetry={() => void orders.refetch()} />;
  if (orders.data!.length === 0) return <Empty>{t("mine.noOrders")}</Empty>;
  return (
    <ul className="list">
      {orders.data!.map((o) => (
        <li key={o.orderNo}>
          <Link to={`/checkout/${o.orderNo}`}>
            {o.title} × {o.quantity}
          </Link>
          <div className="muted mono">{o.orderNo}</div>
          <div className="row" style={{ alignItems: "baseline" }}>
            <span>{formatFen(o.amountFen)}</span>
            <span className="badge">{t(`order.status.${o.status}`)}</span>
            <span className="muted">{formatDateTime(o.createdAt, i18n.language)}</span>
          </div>
          {o.refund !== null && <OrderRefund refund={o.refund} />}
        </li>
      ))}
    </ul>
  );
}

function Gifts() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const me = useMe();
  const gifts = useQuery(trpc.collectibles.gifts.queryOptions());
  if (gifts.isLoading) return <Loading />;
  if (gifts.error) return <ErrorState error={gifts.error} onRetry={() => void gifts.refetch()} />;
  if (gifts.data!.length === 0) return <Empty>{t("mine.noGifts")}</Empty>;
  return (
    <ul className="list">
      {gifts.data!.map((g) => {
        const sent = g.fromUserId === me.data?.id;
        return (
          <li key={g.id}>
            <span className={`badge ${sent ? "warn" : "ok"}`}>
              {sent ? t("mine.giftSent") : t("mine.giftReceived")}
            </span>{" "}
            #{g.tokenId} · <span className="muted">{formatDateTime(g.at, i18n.language)}</span>
          </li>
        );
      })}
    </ul>
  );
}

function Account() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const [confirmErase, setConfirmErase] = useState(false);
  const exportData = useMutation(
    trpc.privacy.exportMyData.mutationOptions({
      onSuccess: (data) => {
        const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
        const url = URL.createObjectURL(blob);
        const link = document.createElement("a");
        link.href = url;
        link.download = "my-data.json";
        link.click();
        URL.revokeObjectURL(url);
      },
    }),
  );
  const erase = useMutation(
    trpc.privacy.requestErasure.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        void navigate("/", { replace: true });
      },
    }),
  );
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        void navigate("/", { replace: true });
      },
    }),
  );

  return (
    <div className="page">
      <div className="card">
        <h2>{t("account.kyc")}</h2>
        <Link to="/me/verify">{t("account.kycLink")}</Link>
      </div>
      <div className="card">
        <h2>{t("credential.title")}</h2>
        <p className="muted">{t("credential.intro")}</p>
        <Link to="/me/credential">{t("account.credentialLink")}</Link>
      </div>
      <div className="card">
        <h2>{t("account.myData")}</h2>
        <p className="muted">{t("account.exportHelp")}</p>
        <button type="button" className="button secondary" onClick={() => exportData.mutate()}>
          {t("account.export")}
        </button>
        <FormError error={withoutStepUp(exportData.error)} />
        <StepUpGate purpose="export" error={exportData.error} onConfirmed={() => exportData.mutate()} />
      </div>
      <div className="card">
        <h2>{t("account.erasure")}</h2>
        <p className="muted">{t("account.erasureHelp")}</p>
        {!confirmErase ? (
          <button type="button" className="button secondary" onClick={() => setConfirmErase(true)}>
            {t("account.erase")}
          </button>
        ) : (
          <div className="row">
            <button type="button" className="button" onClick={() => erase.mutate()} disabled={erase.isPending}>
              {t("account.eraseConfirm")}
            </button>
            <button type="button" className="button ghost" onClick={() => setConfirmErase(false)}>
              {t("common.cancel")}
            </button>
          </div>
        )}
        <FormError error={erase.error} />
      </div>
      <button type="button" className="button ghost" onClick={() => logout.mutate()}>
        {t("account.logout")}
      </button>
    </div>
  );
}
