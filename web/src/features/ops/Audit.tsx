import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { ErrorState, Loading } from "../../components/States";
import { formatDateTime } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";

const ROLES = ["system", "operator", "issuer_staff", "collector"] as const;

function detailsText(details: unknown): string {
  if (details === null || typeof details !== "object") return "";
  return Object.entries(details as Record<string, unknown>)
    .map(([key, value]) => `${key}: ${typeof value === "object" ? JSON.stringify(value) : String(value)}`)
    .join("; ");
}

/** The audit log in words, filtered by action, actor role and dates, exportable as CSV; and its hash-chain check. */
export function Audit() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const [action, setAction] = useState("");
  const [role, setRole] = useState<(typeof ROLES)[number] | "">("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const recent = useQuery(
    trpc.audit.recent.queryOptions({
      limit: 200,
      ...(action === "" ? {} : { action }),
      ...(role === "" ? {} : { actorRole: role }),
      ...(from === "" ? {} : { from }),
      ...(to === "" ? {} : { to }),
    }),
  );
  const actionList = useQuery(trpc.audit.actions.queryOptions());
  const verify = useQuery(trpc.audit.verify.queryOptions(undefined, { enabled: false }));
  const actions = actionList.data ?? [];
  const actorOf = (row: { actorRole: string; actorMasked: string | null }) =>
    `${t(`ops.audit.actorRole.${row.actorRole}`, { defaultValue: row.actorRole })}${row.actorMasked === null ? "" : ` ${row.actorMasked}`}`;
  const subjectOf = (row: { subjectType: string; subjectId: string; subjectName: string | null }) =>
    `${t(`ops.audit.subjectType.${row.subjectType}`, { defaultValue: row.subjectType })} ${row.subjectName ?? row.subjectId}`;
  const rows = recent.data ?? [];

  function exportCsv() {
    const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
    const lines = [
      ["seq", "at", "action", "actor", "subject", "details", "hash"].join(","),
      ...rows.map((row) =>
        [
          String(row.seq),
          new Date(row.at).toISOString(),
          row.action,
          actorOf(row),
          subjectOf(row),
          detailsText(row.details),
          row.hash,
        ]
          .map(quote)
          .join(","),
      ),
    ];
    const url = URL.createObjectURL(new Blob(["\ufeff" + lines.join("\n")], { type: "text/csv" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = "audit-log.csv";
    link.click();
    URL.revokeObjectURL(url);
  }

  return (
    <div className="page">
      <div className="toolbar">
        <button type="button" className="button secondary" onClick={() => void verify.refetch()}>
          {t("ops.audit.verify")}
        </button>
        <button type="button" className="button ghost" onClick={exportCsv} disabled={rows.length === 0}>
          {t("ops.audit.export")}
        </button>
      </div>
      {verify.isFetching && <Loading />}
      {verify.data !== undefined && (
        <p role="status" className={`badge ${verify.data.ok ? "ok" : "bad"}`} data-testid="audit-verdict">
          {verify.data.ok
            ? t("ops.audit.ok", { rows: verify.data.rows })
            : t("ops.audit.broken", { seq: verify.data.firstBadSeq, problem: verify.data.problem })}
        </p>
      )}
      <div className="toolbar">
        <div className="field">
          <label htmlFor="audit-action">{t("ops.audit.filterAction")}</label>
          <select id="audit-action" value={action} onChange={(e) => setAction(e.target.value)}>
            <option value="">{t("ops.audit.any")}</option>
            {actions.map((name) => (
              <option key={name} value={name}>
                {t(`ops.audit.actionName.${name}`, { defaultValue: name })}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-role">{t("ops.audit.filterActor")}</label>
          <select id="audit-role" value={role} onChange={(e) => setRole(e.target.value as (typeof ROLES)[number] | "")}>
            <option value="">{t("ops.audit.any")}</option>
            {ROLES.map((name) => (
              <option key={name} value={name}>
                {t(`ops.audit.actorRole.${name}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="audit-from">{t("ops.audit.from")}</label>
          <input id="audit-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="audit-to">{t("ops.audit.to")}</label>
          <input id="audit-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
      </div>
      {recent.isLoading && <Loading />}
      {recent.error && <ErrorState error={recent.error} />}
      {recent.data !== undefined && (
        <table className="data cards" data-testid="audit-rows">
          <thead>
            <tr>
              <th scope="col">{t("ops.audit.seq")}</th>
              <th scope="col">{t("ops.audit.action")}</th>
              <th scope="col">{t("ops.audit.actor")}</th>
              <th scope="col">{t("ops.audit.subject")}</th>
              <th scope="col">{t("ops.audit.details")}</th>
              <th scope="col">{t("ops.audit.at")}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.seq}>
                <td data-label={t("ops.audit.seq")}>{row.seq}</td>
                <td data-label={t("ops.audit.action")}>
                  {t(`ops.audit.actionName.${row.action}`, { defaultValue: row.action })}
                  <div className="mono muted">{row.action}</div>
                </td>
                <td data-label={t("ops.audit.actor")}>{actorOf(row)}</td>
                <td data-label={t("ops.audit.subject")}>{subjectOf(row)}</td>
                <td className="mono" data-label={t("ops.audit.details")}>
                  {detailsText(row.details)}
                </td>
                <td data-label={t("ops.audit.at")}>{formatDateTime(row.at, i18n.language)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
