import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { FormError } from "../../components/States";
import { useTRPC } from "../../lib/trpc";

/** The presentation a wallet sent back in the page's fragment (`#presentation=…`), if any. */
function presentationFromFragment(): string {
  const match = /(?:^#|&)presentation=([^&]+)/.exec(window.location.hash);
  return match?.[1] === undefined ? "" : decodeURIComponent(match[1]);
}

/**
 * Real-name verification without an ID number: the collector presents a credential from a trusted issuer
 * (only "over 18" and a pseudonymous subject id), signed for the platform's challenge.
 */
export function CredentialKycPanel() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [presentation, setPresentation] = useState(presentationFromFragment);
  const challenge = useMutation(trpc.credentials.challenge.mutationOptions());
  const submit = useMutation(
    trpc.credentials.verifyIdentity.mutationOptions({
      onSuccess: async () => {
        window.history.replaceState(null, "", window.location.pathname);
        await queryClient.invalidateQueries();
      },
    }),
  );
  const issued = challenge.data;
  const walletLink =
    issued === undefined
      ? null
      : `/demo-issuer/wallet?aud=${encodeURIComponent(issued.audience)}&nonce=${encodeURIComponent(issued.nonce)}`;

  return (
    <div className="card" data-testid="credential-kyc">
      <h2>{t("credentialKyc.title")}</h2>
      <p className="muted">{t("credentialKyc.intro")}</p>
      <button
        type="button"
        className="button secondary"
        onClick={() => challenge.mutate({ purpose: "present" })}
        disabled={challenge.isPending}
      >
        {t("credentialKyc.getChallenge")}
      </button>
      {issued !== undefined && (
        <dl className="facts">
          <dt>{t("credential.nonce")}</dt>
          <dd className="mono" data-testid="kyc-nonce">
            {issued.nonce}
          </dd>
          <dt>{t("credential.audience")}</dt>
          <dd className="mono">{issued.audience}</dd>
        </dl>
      )}
      {walletLink !== null && (
        <p>
          <a href={walletLink}>{t("credentialKyc.demoWallet")}</a>
        </p>
      )}
      <label>
        {t("credentialKyc.paste")}
        <textarea rows={5} value={presentation} onChange={(event) => setPresentation(event.target.value)} />
      </label>
      <button
        type="button"
        className="button"
        onClick={() => submit.mutate({ presentation: presentation.trim() })}
        disabled={presentation.trim() === "" || submit.isPending}
      >
        {t("credentialKyc.submit")}
      </button>
      <FormError error={submit.error} />
    </div>
  );
}
