import { useQueries, useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";
import { Link } from "react-router";

import { Countdown } from "../../components/Countdown";
import { MediaView } from "../../components/MediaView";
import { TakenDown } from "../../components/TakenDown";
import { Empty, ErrorState, Loading } from "../../components/States";
import { formatFen } from "../../lib/format";
import { type SaleBadge, saleBadge } from "../../lib/sale";
import { useTRPC } from "../../lib/trpc";
import { useNow } from "../../lib/use-now";

const SECTIONS: { key: string; badges: SaleBadge[] }[] = [
  { key: "home.onSale", badges: ["onSale"] },
  { key: "home.upcoming", badges: ["upcoming"] },
  { key: "home.past", badges: ["soldOut", "ended"] },
];

export function HomePage() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const now = useNow(1000);
  const list = useQuery(trpc.catalog.list.queryOptions());
  const stocks = useQueries({
    queries: (list.data ?? []).map((c) =>
      trpc.drops.stock.queryOptions({ collectionId: c.id }, { refetchInterval: 10_000 }),
    ),
  });

  const cards = (list.data ?? []).map((c, i) => {
    const stock = stocks[i]?.data;
    return { c, stock, badge: saleBadge(c, stock, now) };
  });
  // The first two tiles shown (the top row of a phone) load first and never lazily: on sale before upcoming.
  const top = new Set(
    SECTIONS.flatMap((section) => cards.filter((card) => section.badges.includes(card.badge)))
      .slice(0, 2)
      .map((card) => card.c.id),
  );

  // The heading needs no data: it paints with the page's code, the list below it once it arrives.
  return (
    <section className="page">
      <div className="hero">
        <h1>{t("home.title")}</h1>
        <p className="muted">{t("home.subtitle")}</p>
      </div>
      {list.isLoading && <Loading />}
      {list.error && <ErrorState error={list.error} onRetry={() => void list.refetch()} />}
      {list.isSuccess && cards.length === 0 && <Empty>{t("home.empty")}</Empty>}
      {SECTIONS.map((section) => {
        const inSection = cards.filter((card) => section.badges.includes(card.badge));
        if (inSection.length === 0) return null;
        return (
          <section key={section.key} aria-labelledby={section.key}>
            <h2 id={section.key}>{t(section.key)}</h2>
            <ul className="grid" style={{ listStyle: "none", padding: 0, margin: 0 }}>
              {inSection.map(({ c, stock, badge }) => (
                <li key={c.id}>
                  <Link to={`/c/${c.id}`} className="tile" data-testid="collection-tile">
                    {c.mediaUrl === null ? (
                      <TakenDown compact />
                    ) : (
                      <MediaView
                        url={c.mediaUrl}
                        type={c.mediaType}
                        alt={c.title}
                        variant="thumb"
                        image={c.mediaImage}
                        priority={top.has(c.id)}
                      />
                    )}
                    <div className="tile-body">
                      <h3 className="tile-title">{c.title}</h3>
                      <span className="muted">{c.issuerName}</span>
                      <span className="price">{formatFen(c.priceFen)}</span>
                      <span>
                        <span className={`badge ${badge.toLowerCase()}`}>{t(`sale.${badge}`)}</span>{" "}
                        <span className="muted">{t("home.editions", { count: c.editionSize })}</span>
                      </span>
                      {badge === "upcoming" && <Countdown target={c.saleStartsAt} label={t("sale.startsIn")} />}
                      {badge === "onSale" && stock !== undefined && (
                        <span className="muted">{t("sale.remaining", { count: stock.available })}</span>
                      )}
                    </div>
                  </Link>
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </section>
  );
}
