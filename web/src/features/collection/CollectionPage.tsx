import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { useParams } from "react-router";

import { MediaView } from "../../components/MediaView";
import { TakenDown } from "../../components/TakenDown";
import { ErrorState, Loading } from "../../components/States";
import { formatDateTime, shortHash } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";
import { BuyPanel } from "./BuyPanel";

/** A lottery drop's public proof: the seed commitment and fixed draw time, then the seed and block after the draw. */
function LotteryFacts({ collectionId }: { collectionId: number }) {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  // Null for a drop without a lottery: then there is nothing to show.
  const lottery = useQuery(trpc.lottery.result.queryOptions({ collectionId }));
  const l = lottery.data;
  if (l === undefined || l === null) return null;
  const wrap = { overflowWrap: "anywhere" as const };
  return (
    <>
      <dt>{t("collection.lotteryDrawAt")}</dt>
      <dd>{formatDateTime(l.drawAt, i18n.language)}</dd>
      <dt>{t("collection.lotteryCommitment")}</dt>
      <dd className="mono" style={wrap} data-testid="lottery-commitment">
        {l.seedCommitment}
      </dd>
      {l.drawn && (
        <>
          <dt>{t("collection.lotteryBlock")}</dt>
          <dd className="mono" style={wrap}>
            #{l.blockNumber} {l.blockHash}
          </dd>
          <dt>{t("collection.lotterySeed")}</dt>
          <dd className="mono" style={wrap}>
            {l.seed}
          </dd>
        </>
      )}
      <dd className="muted">{t("collection.lotteryVerify")}</dd>
    </>
  );
}

export function CollectionPage() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const collectionId = Number(useParams().collectionId);
  const valid = Number.isInteger(collectionId) && collectionId > 0;
  const collection = useQuery(trpc.catalog.get.queryOptions({ collectionId }, { enabled: valid }));

  if (!valid) return <ErrorState error={new Error("not found")} />;
  if (collection.isLoading) return <Loading />;
  if (collection.error) return <ErrorState error={collection.error} onRetry={() => void collection.refetch()} />;
  const c = collection.data!;

  return (
    <article className="split">
      <div>
        {c.takenDown || c.mediaUrl === null ? (
          <TakenDown />
        ) : (
          <MediaView url={c.mediaUrl} type={c.mediaType} alt={c.title} image={c.mediaImage} priority />
        )}
      </div>
      <div className="page">
        <header className="hero">
          <span className="muted">{c.issuerName}</span>
          <h1>{c.title}</h1>
          <span>{t("collection.creator", { name: c.creator })}</span>
        </header>
        {c.takenDown ? (
          <p>
            <span className="badge bad">{t("takedown.badge")}</span> {t("takedown.notice")}
          </p>
        ) : (
          <BuyPanel collection={c} />
        )}
        <section aria-labelledby="rules">
          <h2 id="rules">{t("collection.rulesTitle")}</h2>
          <ul>
            <li>{t("collection.rules.realName")}</li>
            <li>{t("collection.rules.lock", { days: c.lockDays })}</li>
            <li>{t("collection.rules.regift", { days: c.regiftDays })}</li>
            <li>{t("collection.rules.noResale")}</li>
          </ul>
        </section>
        <section aria-labelledby="about">
          <h2 id="about">{t("collection.about")}</h2>
          <p>{c.description}</p>
          <p style={{ whiteSpace: "pre-line" }}>{c.story}</p>
        </section>
        <section aria-labelledby="facts">
          <h2 id="facts">{t("collection.facts")}</h2>
          <dl className="facts">
            <dt>{t("collection.editionSize")}</dt>
            <dd>{c.editionSize}</dd>
            <dt>{t("collection.saleWindow")}</dt>
            <dd>
              {formatDateTime(c.saleStartsAt, i18n.language)} – {formatDateTime(c.saleEndsAt, i18n.language)}
            </dd>
            <dt>{t("collection.contract")}</dt>
            <dd className="mono">{c.contractAddress ?? "—"}</dd>
            <dt>{t("collection.mediaHash")}</dt>
            <dd className="mono" title={c.mediaSha256}>
              {shortHash(c.mediaSha256, 10)}
            </dd>
            <LotteryFacts collectionId={c.id} />
          </dl>
        </section>
      </div>
    </article>
  );
}
