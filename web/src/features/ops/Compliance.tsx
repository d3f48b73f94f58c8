import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";

import { Empty, FormError, Loading } from "../../components/States";
import { formatDateTime, shortHash } from "../../lib/format";
import { fieldErrors, useTRPC } from "../../lib/trpc";

const REASON_CODES = [2, 3, 4, 5, 6, 1] as const;

type Confirming =
  | { kind: "takedown"; collectionId: number; tokenId?: number; text: string }
  | { kind: "recovery"; collectionId: number; tokenId: number; toUserId: number; text: string };

const wrap = { overflowWrap: "anywhere" as const, maxWidth: "100%" };

/**
 * Takedown and recovery by four eyes: one operator requests (reason category and words, after a confirmation
 * that says what will happen to whom), another approves or rejects from the pending list.
 */
export function Compliance() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.compliance.list.queryKey() });
  const pending = useQuery(trpc.compliance.list.queryOptions({ filter: "pending" }));
  const recent = useQuery(trpc.compliance.list.queryOptions({ filter: "all", limit: 20 }));
  const requestTakedown = useMutation(trpc.compliance.requestTakedown.mutationOptions({ onSuccess: refresh }));
  const requestRecovery = useMutation(trpc.compliance.requestRecovery.mutationOptions({ onSuccess: refresh }));
  const approve = useMutation(trpc.compliance.approve.mutationOptions({ onSuccess: refresh }));
  const reject = useMutation(trpc.compliance.reject.mutationOptions({ onSuccess: refresh }));
  const [collectionId, setCollectionId] = useState("");
  const [tokenId, setTokenId] = useState("");
  const [targetPhone, setTargetPhone] = useState("");
  const [reasonCode, setReasonCode] = useState<number>(2);
  const [reason, setReason] = useState("");
  const [rejectReason, setRejectReason] = useState("");
  const [confirming, setConfirming] = useState<Confirming | null>(null);
  const [previewError, setPreviewError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const error = requestTakedown.error ?? requestRecovery.error;
  const reasonError = fieldErrors(error, i18n.language).reason;

  function askTakedown(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    const collection = Number(collectionId);
    const token = tokenId.trim() === "" ? undefined : Number(tokenId);
    setConfirming({
      kind: "takedown",
      collectionId: collection,
      ...(token === undefined ? {} : { tokenId: token }),
      text:
        token === undefined
          ? t("ops.compliance.confirmCollection", { collection })
          : t("ops.compliance.confirmToken", { collection, token }),
    });
  }

  async function askRecovery() {
    setDone(null);
    setPreviewError(null);
    try {
      const target = await queryClient.fetchQuery(trpc.ops.findAccount.queryOptions({ phone: targetPhone.trim() }));
      const input = { collectionId: Number(collectionId), tokenId: Number(tokenId), toUserId: target.id };
      const preview = await queryClient.fetchQuery(trpc.compliance.previewRecovery.queryOptions(input));
      setConfirming({
        kind: "recovery",
        ...input,
        text: t("ops.compliance.confirmRecovery", {
          token: preview.tokenId,
          title: preview.title,
          from: preview.fromMasked,
          to: preview.toMasked,
          identity: t(preview.sameIdentity ? "ops.compliance.sameIdentity" : "ops.compliance.otherIdentity"),
        }),
      });
    } catch (caught) {
      setPreviewError(caught);
    }
  }

  function submit() {
    if (confirming === null) return;
    const c = confirming;
    setConfirming(null);
    const onSuccess = (result: { actionId: number }) => setDone(t("ops.compliance.requested", { id: result.actionId }));
    if (c.kind === "takedown") {
      requestTakedown.mutate(
        {
          collectionId: c.collectionId,
          ...(c.tokenId === undefined ? {} : { tokenId: c.tokenId }),
          reasonCode,
          reason,
        },
        { onSuccess },
      );
    } else {
      requestRecovery.mutate(
        { collectionId: c.collectionId, tokenId: c.tokenId, toUserId: c.toUserId, reasonCode, reason },
        { onSuccess },
      );
    }
  }

  return (
    <div className="page" style={wrap}>
      <section aria-labelledby="compliance-pending" data-testid="compliance-pending">
        <h2 id="compliance-pending">{t("ops.compliance.pending")}</h2>
        {pending.isLoading && <Loading />}
        {pending.data?.length === 0 && <Empty>{t("ops.compliance.nonePending")}</Empty>}
        <FormError error={approve.error ?? reject.error} shown={[]} />
        <ul className="list">
          {pending.data?.map((row) => (
            <li key={row.id} className="card page" style={wrap} data-testid="compliance-request">
              <strong>{t(`ops.compliance.kind.${row.kind}`)}</strong> · {row.title ?? `#${row.collectionId}`}
              {row.tokenId !== null && ` #${row.tokenId}`}
              {row.toMasked !== null && ` · ${row.fromMasked ?? "—"} → ${row.toMasked}`}
              <div className="muted">
                {t(`ops.compliance.reasonCode.${row.reasonCode}`)} · {row.reason} ·{" "}
                {t("ops.compliance.requestedBy", { who: row.requestedByMasked ?? "—" })} ·{" "}
                {formatDateTime(row.createdAt, i18n.language)}
              </div>
              <div className="toolbar">
                <button type="button" className="button" onClick={() => approve.mutate({ actionId: row.id })}>
                  {t("ops.compliance.approve")}
                </button>
                <input
                  aria-label={t("ops.compliance.rejectReason")}
                  placeholder={t("ops.compliance.rejectReason")}
                  value={rejectReason}
                  onChange={(e) => setRejectReason(e.target.value)}
                />
                <button
                  type="button"
                  className="button secondary"
                  onClick={() => reject.mutate({ actionId: row.id, reason: rejectReason })}
                >
                  {t("ops.compliance.reject")}
                </button>
              </div>
            </li>
          ))}
        </ul>
      </section>

      <form className="card page" onSubmit={askTakedown} aria-labelledby="compliance-new" style={wrap}>
        <h2 id="compliance-new">{t("ops.compliance.newRequest")}</h2>
        <div className="field">
          <label htmlFor="compliance-collection">{t("ops.accounts.collectionId")}</label>
          <input
            id="compliance-collection"
            inputMode="numeric"
            value={collectionId}
            onChange={(e) => setCollectionId(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="compliance-token">{t("ops.compliance.tokenOptional")}</label>
          <input
            id="compliance-token"
            inputMode="numeric"
            value={tokenId}
            onChange={(e) => setTokenId(e.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor="compliance-code">{t("ops.compliance.reasonCategory")}</label>
          <select id="compliance-code" value={reasonCode} onChange={(e) => setReasonCode(Number(e.target.value))}>
            {REASON_CODES.map((code) => (
              <option key={code} value={code}>
                {t(`ops.compliance.reasonCode.${code}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="compliance-reason">{t("ops.reason")}</label>
          <input id="compliance-reason" value={reason} onChange={(e) => setReason(e.target.value)} />
          {reasonError !== undefined && <p className="form-error">{reasonError}</p>}
        </div>
        <div className="field">
          <label htmlFor="compliance-target">{t("ops.compliance.targetPhone")}</label>
          <input
            id="compliance-target"
            inputMode="tel"
            autoComplete="off"
            value={targetPhone}
            onChange={(e) => setTargetPhone(e.target.value)}
          />
        </div>
        <div className="toolbar">
          <button type="submit" className="button" data-testid="request-takedown">
            {t("ops.compliance.requestTakedown")}
          </button>
          <button type="button" className="button secondary" onClick={() => void askRecovery()}>
            {t("ops.compliance.requestRecovery")}
          </button>
        </div>
        <FormError error={previewError ?? error} shown={["reason"]} />
        {done !== null && <p role="status">{done}</p>}
      </form>

      {confirming !== null && (
        <div className="card page" role="alertdialog" aria-labelledby="compliance-confirm" style={wrap}>
          <h2 id="compliance-confirm">{t("ops.compliance.confirmTitle")}</h2>
          <p data-testid="compliance-confirm-text">{confirming.text}</p>
          <p className="muted">{t("ops.compliance.fourEyes")}</p>
          <div className="toolbar">
            <button type="button" className="button" onClick={submit} data-testid="compliance-confirm">
              {t("ops.compliance.confirm")}
            </button>
            <button type="button" className="button secondary" onClick={() => setConfirming(null)}>
              {t("ops.compliance.cancel")}
            </button>
          </div>
        </div>
      )}

      <section aria-labelledby="compliance-recent">
        <h2 id="compliance-recent">{t("ops.compliance.recent")}</h2>
        <ul className="list">
          {recent.data?.map((row) => (
            <li key={row.id} style={wrap}>
              #{row.id} · {t(`ops.compliance.kind.${row.kind}`)} · {row.title ?? row.userMasked ?? "—"}
              {row.tokenId !== null && ` #${row.tokenId}`} · {t(`ops.compliance.status.${row.status}`)}
              {row.txHash !== null && <span className="mono"> · {shortHash(row.txHash)}</span>}
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}
