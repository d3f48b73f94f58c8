import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useSearchParams } from "react-router";

import { QrCode } from "../../components/QrCode";
import { RequireRole } from "../../components/RequireRole";
import { FormError, Loading } from "../../components/States";
import { DISCLOSABLE, holderProof, present, verifyPageAudience } from "../../lib/credential";
import { holderKey, storeCredential, storedCredential } from "../../lib/holder-key";
import { useKycStatus, useMe } from "../../lib/session";
import { useTRPC } from "../../lib/trpc";

/** 我的 → 实名凭证: get a real-name credential into this browser and present chosen claims from it. */
export function CredentialPage() {
  return (
    <RequireRole role="collector">
      <Credential />
    </RequireRole>
  );
}

function Credential() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const me = useMe();
  const kyc = useKycStatus(true);
  const accountId = me.data?.id;
  const stored = useQuery({
    queryKey: ["credential", accountId],
    queryFn: () => storedCredential(accountId!),
    enabled: accountId !== undefined,
  });
  const challenge = useMutation(trpc.credentials.challenge.mutationOptions());
  const issueCredential = useMutation(trpc.credentials.issue.mutationOptions());
  const obtain = useMutation({
    mutationFn: async () => {
      const key = await holderKey(accountId!);
      const { nonce, audience } = await challenge.mutateAsync({ purpose: "issue" });
      const { credential } = await issueCredential.mutateAsync({ proof: await holderProof(key, nonce, audience) });
      await storeCredential(accountId!, credential);
      await stored.refetch();
    },
  });

  if (kyc.isLoading || me.isLoading || stored.isLoading) return <Loading />;
  if (kyc.data?.state !== "verified") {
    return (
      <section className="page narrow">
        <h1>{t("credential.title")}</h1>
        <p className="notice">
          {t("credential.verifyFirst")} <Link to="/me/verify">{t("mine.verifyLink")}</Link>
        </p>
      </section>
    );
  }
  return (
    <section className="page narrow">
      <h1>{t("credential.title")}</h1>
      <p className="muted">{t("credential.intro")}</p>
      <div className="card">
        <button type="button" className="button" onClick={() => obtain.mutate()} disabled={obtain.isPending}>
          {stored.data === null ? t("credential.obtain") : t("credential.renew")}
        </button>
        {stored.data !== null && <p data-testid="credential-held">{t("credential.held")}</p>}
        <FormError error={obtain.error} />
      </div>
      {stored.data !== null && stored.data !== undefined && (
        <Presenter credential={stored.data} accountId={accountId!} />
      )}
    </section>
  );
}

function Presenter({ credential, accountId }: { credential: string; accountId: number }) {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const [chosen, setChosen] = useState<string[]>([]);
  const [nonce, setNonce] = useState(params.get("nonce") ?? "");
  const [audience, setAudience] = useState(params.get("aud") ?? verifyPageAudience());
  const [presentation, setPresentation] = useState<string | null>(null);
  const make = useMutation({
    mutationFn: async () => present(credential, chosen, { aud: audience, nonce }, await holderKey(accountId)),
    onSuccess: setPresentation,
  });
  useEffect(() => setPresentation(null), [chosen, nonce, audience]);

  return (
    <div className="card">
      <h2>{t("credential.presentTitle")}</h2>
      <p className="muted">{t("credential.alwaysShown")}</p>
      <fieldset>
        <legend>{t("credential.chooseClaims")}</legend>
        {DISCLOSABLE.map((claim) => (
          <label key={claim} className="row">
            <input
              type="checkbox"
              checked={chosen.includes(claim)}
              onChange={(event) =>
                setChosen((list) => (event.target.checked ? [...list, claim] : list.filter((c) => c !== claim)))
              }
            />
            {t(`credential.claim.${claim}`)}
          </label>
        ))}
      </fieldset>
      <label>
        {t("credential.nonce")}
        <input value={nonce} onChange={(event) => setNonce(event.target.value.trim())} />
      </label>
      <label>
        {t("credential.audience")}
        <input value={audience} onChange={(event) => setAudience(event.target.value.trim())} />
      </label>
      <button type="button" className="button" onClick={() => make.mutate()} disabled={nonce === "" || make.isPending}>
        {t("credential.makePresentation")}
      </button>
      <FormError error={make.error} />
      {presentation !== null && (
        <div>
          <QrCode value={presentation} label={t("credential.qrLabel")} />
          <textarea readOnly rows={6} value={presentation} aria-label={t("credential.presentation")} />
        </div>
      )}
    </div>
  );
}
