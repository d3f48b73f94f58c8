import "./i18n";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router";

import { MediaView } from "../../components/MediaView";
import { RequireRole } from "../../components/RequireRole";
import { SessionsPanel } from "../../components/SessionsPanel";
import { Empty, ErrorState, FormError, Loading } from "../../components/States";
import { formatDateTime, formatFen } from "../../lib/format";
import { fieldErrors, useTRPC } from "../../lib/trpc";
import { Accounts } from "./Accounts";
import { Audit } from "./Audit";
import { Compliance } from "./Compliance";
import { Orders } from "./Orders";

const TABS = ["reviews", "accounts", "compliance", "kyc", "orders", "reconcile", "audit"] as const;
type Tab = (typeof TABS)[number];

export function OpsApp() {
  return (
    <RequireRole role="operator">
      <Ops />
    </RequireRole>
  );
}

function Ops() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const tab: Tab = (TABS as readonly string[]).includes(params.get("tab") ?? "")
    ? (params.get("tab") as Tab)
    : "reviews";
  return (
    <section className="page">
      <h1>{t("ops.title")}</h1>
      <SessionsPanel />
      <div className="tabs" role="tablist" aria-label={t("ops.title")}>
        {TABS.map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`ops-tab-${name}`}
            aria-selected={tab === name}
            aria-controls={`ops-panel-${name}`}
            onClick={() => setParams({ tab: name })}
          >
            {t(`ops.tab.${name}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`ops-panel-${tab}`} aria-labelledby={`ops-tab-${tab}`} className="page">
        {tab === "reviews" && <Reviews />}
        {tab === "accounts" && <Accounts />}
        {tab === "compliance" && <Compliance />}
        {tab === "kyc" && <KycExceptions />}
        {tab === "orders" && <Orders />}
        {tab === "reconcile" && <Reconcile />}
        {tab === "audit" && <Audit />}
      </div>
    </section>
  );
}

/** Approve, or reject with a reason (required for a rejection). */
function Decision({
  label,
  pending,
  error,
  onDecide,
}: {
  label: string;
  pending: boolean;
  error: unknown;
  onDecide: (decision: { approve: boolean; reason?: string }) => void;
}) {
  const { t, i18n } = useTranslation();
  const [reason, setReason] = useState("");
  const [missing, setMissing] = useState(false);
  const id = `reason-${label}`;
  return (
    <div className="page">
      <div className="field">
        <label htmlFor={id}>{t("ops.reviews.decisionReason")}</label>
        <input id={id} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
        {missing && <p className="field-error">{t("ops.rejectReasonRequired")}</p>}
        {!missing && fieldErrors(error, i18n.language).reason !== undefined && (
          <p className="field-error">{fieldErrors(error, i18n.language).reason}</p>
        )}
      </div>
      <div className="row">
        <button
          type="button"
          className="button"
          disabled={pending}
          onClick={() => onDecide({ approve: true, ...(reason.trim() ? { reason: reason.trim() } : {}) })}
          aria-label={`${t("ops.approve")} ${label}`}
        >
          {t("ops.approve")}
        </button>
        <button
          type="button"
          className="button secondary"
          disabled={pending}
          onClick={() => {
            if (reason.trim() === "") return setMissing(true);
            onDecide({ approve: false, reason: reason.trim() });
          }}
          aria-label={`${t("ops.reject")} ${label}`}
        >
          {t("ops.reject")}
        </button>
      </div>
      <FormError error={error} shown={["reason"]} />
    </div>
  );
}

const ISSUER_BADGE: Record<string, string> = { pending: "warn", approved: "ok", rejected: "bad" };

function Reviews() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const issuers = useQuery(trpc.issuer.applications.queryOptions({ status: "pending" }));
  const allIssuers = useQuery(trpc.issuer.applications.queryOptions({}));
  const collections = useQuery(trpc.review.queue.queryOptions());
  const refresh = () => void queryClient.invalidateQueries();
  const reviewIssuer = useMutation(trpc.issuer.review.mutationOptions({ onSuccess: refresh }));
  const decide = useMutation(trpc.review.decide.mutationOptions({ onSuccess: refresh }));

  return (
    <>
      <h2>{t("ops.reviews.issuers")}</h2>
      {issuers.isLoading && <Loading />}
      {issuers.error && <ErrorState error={issuers.error} />}
      {issuers.data?.length === 0 && <Empty>{t("ops.reviews.none")}</Empty>}
      {issuers.data?.map((issuer) => (
        <article key={issuer.id} className="card page" data-testid="issuer-application">
          <h3 style={{ margin: 0 }}>{issuer.name}</h3>
          <p className="mono">
            {t("ops.reviews.creditCode")}: {issuer.creditCode}
          </p>
          <Decision
            label={issuer.name}
            pending={reviewIssuer.isPending}
            error={reviewIssuer.error}
            onDecide={(d) => reviewIssuer.mutate({ issuerId: issuer.id, ...d })}
          />
        </article>
      ))}
      <details className="card" data-testid="issuer-list">
        <summary>{t("ops.reviews.allIssuers", { count: allIssuers.data?.length ?? 0 })}</summary>
        <ul className="list">
          {allIssuers.data?.map((issuer) => (
            <li key={issuer.id}>
              {issuer.name}{" "}
              <span className={`badge ${ISSUER_BADGE[issuer.status] ?? ""}`}>
                {t(`ops.reviews.issuerStatus.${issuer.status}`)}
              </span>
              {issuer.rejectionReason !== null && <span className="muted"> · {issuer.rejectionReason}</span>}
            </li>
          ))}
        </ul>
      </details>
      <h2>{t("ops.reviews.collections")}</h2>
      {collections.isLoading && <Loading />}
      {collections.error && <ErrorState error={collections.error} />}
      {collections.data?.length === 0 && <Empty>{t("ops.reviews.none")}</Empty>}
      {collections.data?.map((c) => (
        <article key={c.id} className="card split" data-testid="collection-review">
          <MediaView url={`/media/${c.mediaSha256}`} type="image/png" alt={c.title} variant="thumb" />
          <div className="page">
            <h3 style={{ margin: 0 }}>{c.title}</h3>
            <p className="muted">
              {c.creator} ·{" "}
              {t("ops.reviews.window", {
                start: formatDateTime(c.saleStartsAt, i18n.language),
                end: formatDateTime(c.saleEndsAt, i18n.language),
              })}
            </p>
            <p>{c.description}</p>
            <p className="muted">
              {t("ops.reviews.terms", {
                price: formatFen(c.priceFen),
                edition: c.editionSize,
                limit: c.perPersonLimit,
                lock: c.lockDays,
                regift: c.regiftDays,
              })}
            </p>
            <details>
              <summary>{t("ops.reviews.story")}</summary>
              <p style={{ whiteSpace: "pre-line" }}>{c.story}</p>
            </details>
            <Decision
              label={c.title}
              pending={decide.isPending}
              error={decide.error}
              onDecide={(d) => decide.mutate({ collectionId: c.id, ...d })}
            />
          </div>
        </article>
      ))}
    </>
  );
}

function KycExceptions() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const list = useQuery(trpc.ops.kycExceptions.queryOptions({}));
  if (list.isLoading) return <Loading />;
  if (list.error) return <ErrorState error={list.error} />;
  if (list.data!.length === 0) return <Empty>{t("ops.kyc.none")}</Empty>;
  return (
    <table className="data cards">
      <thead>
        <tr>
          <th scope="col">{t("ops.kyc.user")}</th>
          <th scope="col">{t("ops.kyc.reason")}</th>
          <th scope="col">{t("ops.kyc.at")}</th>
        </tr>
      </thead>
      <tbody>
        {list.data!.map((row, i) => (
          <tr key={i}>
            <td>{row.userId}</td>
            <td>
              {t(`ops.kyc.outcome.${row.outcome}`)} <span className="mono">{row.reason}</span>
            </td>
            <td>{formatDateTime(row.at, i18n.language)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Reconcile() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const yesterday = new Date(Date.now() + 8 * 3600_000 - 86_400_000).toISOString().slice(0, 10);
  const [day, setDay] = useState(yesterday);
  const reconcile = useMutation(trpc.payments.reconcile.mutationOptions());
  const result = reconcile.data;
  return (
    <div className="page">
      <div className="row">
        <div className="field">
          <label htmlFor="ops-day">{t("ops.reconcile.day")}</label>
          <input id="ops-day" type="date" value={day} onChange={(e) => setDay(e.target.value)} />
          <p className="hint">{t("ops.reconcile.help")}</p>
        </div>
        <div className="field" style={{ flex: "0 0 auto" }}>
          <button type="button" className="button" onClick={() => reconcile.mutate({ day })}>
            {t("ops.reconcile.run")}
          </button>
        </div>
      </div>
      <FormError error={reconcile.error} shown={[]} />
      {result !== undefined && (
        <>
          <p role="status">
            {t("ops.reconcile.summary", {
              trades: result.trades,
              refunds: result.refunds,
              payments: result.payments,
              count: result.mismatches.length,
            })}
          </p>
          <ul className="list">
            {result.mismatches.map((m) => (
              <li key={m.outTradeNo}>
                <span className="mono">{m.outTradeNo}</span> — {t(`ops.reconcile.problem.${m.problem}`)}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
