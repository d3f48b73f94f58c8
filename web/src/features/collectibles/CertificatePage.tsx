import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router";

import { Countdown } from "../../components/Countdown";
import { MediaView } from "../../components/MediaView";
import { TakenDown, takedownReason } from "../../components/TakenDown";
import { QrCode } from "../../components/QrCode";
import { RequireRole } from "../../components/RequireRole";
import { ErrorState, FormError, Loading } from "../../components/States";
import { StepUpGate, withoutStepUp } from "../../components/StepUp";
import { formatDate, formatDateTime, shortHash } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";

export function CertificatePage() {
  return (
    <RequireRole role="collector">
      <Certificate />
    </RequireRole>
  );
}

function Certificate() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const params = useParams();
  const collectionId = Number(params.collectionId);
  const tokenId = Number(params.tokenId);
  const certificate = useQuery(trpc.collectibles.certificate.queryOptions({ collectionId, tokenId }));
  const collection = useQuery(trpc.catalog.get.queryOptions({ collectionId }));

  if (certificate.error) return <ErrorState error={certificate.error} onRetry={() => void certificate.refetch()} />;
  const c = certificate.data;
  if (c === undefined) {
    // The artwork is public and already known (the page came with it): it shows while the chain is read.
    const artwork = collection.data;
    return (
      <article className="split">
        <div>
          {artwork !== undefined && !artwork.takenDown && artwork.mediaUrl !== null && (
            <MediaView
              url={artwork.mediaUrl}
              type={artwork.mediaType}
              alt={artwork.title}
              image={artwork.mediaImage}
              priority
            />
          )}
        </div>
        <div className="page">
          <Loading />
        </div>
      </article>
    );
  }
  // The chain's clock decides; the countdown only shows the wait by this device's clock.
  const locked = c.locked;
  const verifyUrl = `${window.location.origin}/verify/${c.contractAddress}/${c.tokenId}`;

  return (
    <article className="split">
      <div>
        {c.takenDown !== null || c.mediaUrl === null ? (
          <TakenDown />
        ) : (
          collection.data !== undefined && (
            <MediaView
              url={c.mediaUrl}
              type={collection.data.mediaType}
              alt={c.title}
              image={collection.data.mediaImage}
              priority
            />
          )
        )}
      </div>
      <div className="page">
        <section className="certificate" aria-labelledby="cert-title" data-testid="certificate">
          <h2 id="cert-title">{t("cert.title")}</h2>
          <h1 style={{ marginTop: 0 }}>{c.title}</h1>
          <dl className="facts">
            <dt>{t("cert.issuer")}</dt>
            <dd>{c.issuerName}</dd>
            <dt>{t("cert.creator")}</dt>
            <dd>{c.creator}</dd>
            <dt>{t("cert.edition")}</dt>
            <dd data-testid="cert-edition">{c.edition}</dd>
            <dt>{t("cert.contract")}</dt>
            <dd className="mono">{c.contractAddress}</dd>
            <dt>{t("cert.tokenId")}</dt>
            <dd className="mono">{c.tokenId}</dd>
            {c.takenDown !== null && (
              <>
                <dt>{t("takedown.status")}</dt>
                <dd>
                  <span className="badge bad">{t("takedown.badge")}</span>{" "}
                  {t("takedown.reasonCode", takedownReason(t, c.takenDown.reasonCode))}
                </dd>
              </>
            )}
            <dt>{t("cert.holder")}</dt>
            <dd className="mono">{c.ownerMasked ?? "—"}</dd>
            <dt>{t("cert.contentHash")}</dt>
            <dd className="mono">{shortHash(c.contentHash, 12)}</dd>
            <dt>{t("cert.acquired")}</dt>
            <dd>
              {c.acquiredBy === null || c.acquiredAt === null
                ? "—"
                : `${t(`cert.acquiredBy.${c.acquiredBy}`)} · ${formatDateTime(c.acquiredAt, i18n.language)}`}
            </dd>
            {c.mintTxHash !== null && (
              <>
                <dt>{t("cert.mintTx")}</dt>
                <dd className="mono">{shortHash(c.mintTxHash, 10)}</dd>
              </>
            )}
            <dt>{t("cert.unlocksAt")}</dt>
            <dd>{c.unlocksAt === null ? "—" : formatDate(c.unlocksAt, i18n.language)}</dd>
          </dl>
          <div style={{ display: "flex", gap: 12, alignItems: "center", marginTop: 12 }}>
            <QrCode value={verifyUrl} label={t("cert.qr")} />
            <Link to={`/verify/${c.contractAddress}/${c.tokenId}`}>{t("cert.verifyLink")}</Link>
          </div>
        </section>
        <section className="card" aria-labelledby="gift-title">
          <h2 id="gift-title">{t("gift.title")}</h2>
          {locked ? (
            <>
              <p data-testid="gift-locked">{t("gift.lockedUntil", { date: formatDate(c.unlocksAt, i18n.language) })}</p>
              <Countdown target={c.unlocksAt} label={t("gift.unlocksIn")} />
            </>
          ) : (
            <GiftForm collectionId={collectionId} tokenId={tokenId} />
          )}
        </section>
      </div>
    </article>
  );
}

function GiftForm({ collectionId, tokenId }: { collectionId: number; tokenId: number }) {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [recipient, setRecipient] = useState("");
  const lookup = useMutation(trpc.gifts.lookup.mutationOptions());
  const send = useMutation(
    trpc.gifts.send.mutationOptions({
      // The certificate stays on screen (it is no longer the sender's to fetch); their lists change.
      onSuccess: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.collectibles.mine.queryKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.collectibles.gifts.queryKey() });
      },
    }),
  );

  function onLookup(event: FormEvent) {
    event.preventDefault();
    if (recipient.trim() === "") return;
    send.reset();
    lookup.mutate({ recipient: recipient.trim() });
  }

  if (send.isSuccess) {
    return (
      <p className="notice" role="status" data-testid="gift-sent">
        {t("gift.sent", { name: send.data.recipientNameMasked })}
      </p>
    );
  }
  return (
    <div className="page">
      <p className="muted">{t("gift.help")}</p>
      <form onSubmit={onLookup} className="row">
        <div className="field">
          <label htmlFor="gift-recipient">{t("gift.recipient")}</label>
          <input
            id="gift-recipient"
            value={recipient}
            maxLength={20}
            onChange={(e) => {
              setRecipient(e.target.value);
              lookup.reset();
            }}
          />
        </div>
        <div className="field" style={{ flex: "0 0 auto" }}>
          <button type="submit" className="button secondary" disabled={lookup.isPending}>
            {t("gift.lookup")}
          </button>
        </div>
      </form>
      {lookup.data !== undefined && (
        <div className="notice" role="status">
          <p style={{ marginTop: 0 }} data-testid="gift-confirm">
            {t("gift.confirm", { name: lookup.data.nameMasked, phone: lookup.data.phoneMasked })}
          </p>
          <button
            type="button"
            className="button"
            disabled={send.isPending}
            onClick={() =>
              send.mutate({
                collectionId,
                tokenId,
                recipient: recipient.trim(),
                confirmNameMasked: lookup.data.nameMasked,
              })
            }
          >
            {send.isPending ? t("gift.sending") : t("gift.send")}
          </button>
        </div>
      )}
      <FormError error={lookup.error ?? withoutStepUp(send.error)} />
      <StepUpGate
        purpose="gift"
        error={send.error}
        onConfirmed={() => send.variables !== undefined && send.mutate(send.variables)}
      />
    </div>
  );
}
