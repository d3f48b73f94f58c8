import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useLocation, useNavigate } from "react-router";

import { RequireRole } from "../../components/RequireRole";
import { CredentialKycPanel } from "../credentials/CredentialKycPanel";
import { FormError, Loading } from "../../components/States";
import { StepUpGate, withoutStepUp } from "../../components/StepUp";
import { formatDate } from "../../lib/format";
import { idNumberHint } from "../../lib/id-number";
import { safeNext } from "../../lib/next-path";
import { useKycStatus } from "../../lib/session";
import { fieldErrors, useTRPC } from "../../lib/trpc";

export function VerifyIdentityPage() {
  return (
    <RequireRole role="collector">
      <VerifyIdentity />
    </RequireRole>
  );
}

function VerifyIdentity() {
  const { t, i18n } = useTranslation();
  const status = useKycStatus(true);
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const reverify = useMutation(
    trpc.kyc.reverify.mutationOptions({ onSuccess: () => void queryClient.invalidateQueries() }),
  );

  if (status.isLoading) return <Loading />;
  const s = status.data;
  if (s !== undefined && s.state !== "unverified") {
    return (
      <section className="page narrow">
        <h1>{t("kyc.title")}</h1>
        <div className="card">
          <p>
            <span className={`badge ${s.state === "verified" ? "ok" : "warn"}`}>{t(`kyc.state.${s.state}`)}</span>
          </p>
          <dl className="facts">
            <dt>{t("kyc.name")}</dt>
            <dd>{s.nameMasked}</dd>
            <dt>{t("kyc.idNumber")}</dt>
            <dd>{s.idNumberMasked}</dd>
            {s.expiresAt !== undefined && (
              <>
                <dt>{t("kyc.validUntil")}</dt>
                <dd>{formatDate(s.expiresAt, i18n.language)}</dd>
              </>
            )}
            <dt>{t("kyc.onChain")}</dt>
            <dd>{s.onChain === true ? t("kyc.onChainYes") : t("kyc.onChainPending")}</dd>
          </dl>
          {s.renewableFrom !== undefined && new Date(s.renewableFrom) > new Date() ? (
            // Renewal opens in the last days before expiry: say when, rather than offer a button that is refused.
            <p className="muted" data-testid="kyc-renew-later">
              {t("kyc.renewFrom", { date: formatDate(s.renewableFrom, i18n.language) })}
            </p>
          ) : (
            <>
              <button
                type="button"
                className="button secondary"
                onClick={() => reverify.mutate()}
                disabled={reverify.isPending}
              >
                {t("kyc.renew")}
              </button>
              <FormError error={reverify.error} />
            </>
          )}
        </div>
        <Link to="/">{t("kyc.backToDrops")}</Link>
      </section>
    );
  }
  return (
    <>
      <KycForm refusedAsUnderage={s?.refusedAsUnderage === true} />
      <CredentialKycPanel />
    </>
  );
}

export function KycForm({ refusedAsUnderage }: { refusedAsUnderage: boolean }) {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [name, setName] = useState("");
  const [idNumber, setIdNumber] = useState("");
  const [consent, setConsent] = useState(false);
  const [submitted, setSubmitted] = useState(false);
  const submit = useMutation(
    trpc.kyc.submit.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries();
        void navigate(safeNext(location.search, "/me"), { replace: true });
      },
    }),
  );

  const hint = idNumberHint(idNumber, new Date());
  const showIdHint = idNumber.length > 0 && (hint !== "incomplete" || submitted);
  const nameValid = /^[\u4e00-\u9fa5·]{2,30}$/.test(name.trim()) || /^[A-Za-z][A-Za-z .·-]{1,29}$/.test(name.trim());
  const server = fieldErrors(submit.error, i18n.language);
  const nameError = (submitted && !nameValid ? t("kyc.nameInvalid") : undefined) ?? server.name;
  const idError = (showIdHint && hint !== "ok" ? t(`kyc.idHint.${hint}`) : undefined) ?? server.idNumber;

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    setSubmitted(true);
    if (!nameValid || hint !== "ok" || !consent) return;
    submit.mutate({ name: name.trim(), idNumber: idNumber.trim().toUpperCase() });
  }

  return (
    <section className="page narrow">
      <h1>{t("kyc.title")}</h1>
      <p className="muted">{t("kyc.why")}</p>
      {refusedAsUnderage && (
        <p className="notice" role="alert">
          {t("kyc.underageNotice")}
        </p>
      )}
      <form className="card" onSubmit={onSubmit} noValidate aria-label={t("kyc.title")}>
        <div className="field">
          <label htmlFor="kyc-name">{t("kyc.name")}</label>
          <input
            id="kyc-name"
            autoComplete="name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            aria-invalid={nameError !== undefined}
            aria-describedby="kyc-name-error"
          />
          {nameError !== undefined && (
            <p id="kyc-name-error" className="field-error">
              {nameError}
            </p>
          )}
        </div>
        <div className="field">
          <label htmlFor="kyc-id">{t("kyc.idNumber")}</label>
          <input
            id="kyc-id"
            inputMode="text"
            autoComplete="off"
            maxLength={18}
            value={idNumber}
            onChange={(e) => setIdNumber(e.target.value.replace(/[^\dxX]/g, "").toUpperCase())}
            aria-invalid={idError !== undefined}
            aria-describedby="kyc-id-hint"
          />
          <p id="kyc-id-hint" className={idError !== undefined ? "field-error" : hint === "ok" ? "field-ok" : "hint"}>
            {idError ?? (hint === "ok" ? t("kyc.idHint.ok") : t("kyc.idHint.help"))}
          </p>
        </div>
        <div className="field" style={{ flexDirection: "row", alignItems: "flex-start", gap: 8 }}>
          <input id="kyc-consent" type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} />
          <label htmlFor="kyc-consent" style={{ fontWeight: 400 }}>
            {t("kyc.consent")}
          </label>
        </div>
        {submitted && !consent && <p className="field-error">{t("kyc.consentRequired")}</p>}
        <FormError error={withoutStepUp(submit.error)} />
        <StepUpGate
          purpose="kyc"
          error={submit.error}
          onConfirmed={() => submit.variables !== undefined && submit.mutate(submit.variables)}
        />
        <button type="submit" className="button block" disabled={submit.isPending}>
          {submit.isPending ? t("kyc.verifying") : t("kyc.submit")}
        </button>
      </form>
    </section>
  );
}
