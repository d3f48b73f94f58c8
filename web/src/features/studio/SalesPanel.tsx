import { useQuery } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

import { ErrorState, Loading } from "../../components/States";
import { formatFen } from "../../lib/format";
import { useTRPC } from "../../lib/trpc";

/** Only paid orders are minted; expired, unpaid and refunded ones are not part of the mint status. */
const MINT_STATES = ["paid", "minting", "minted"];

/** Sold / reserved / left, revenue, editions sold per hour (an SVG bar chart) and mint status. */
export function SalesPanel({ collectionId }: { collectionId: number }) {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const sales = useQuery(trpc.studio.sales.queryOptions({ collectionId }, { refetchInterval: 10_000 }));
  if (sales.isLoading) return <Loading />;
  if (sales.error) return <ErrorState error={sales.error} onRetry={() => void sales.refetch()} />;
  const s = sales.data!;
  const max = Math.max(1, ...s.series.map((p) => p.editions));
  const width = 600;
  const height = 160;
  const barWidth =
    s.series.length === 0 ? 0 : Math.min(40, Math.max(2, Math.floor((width - 20) / s.series.length) - 2));
  const hourLabel = (value: Date | string) =>
    new Intl.DateTimeFormat(i18n.language, {
      month: "numeric",
      day: "numeric",
      hour: "2-digit",
      timeZone: "Asia/Shanghai",
    }).format(new Date(value));

  return (
    <section className="card page" aria-labelledby="sales-title" data-testid="sales-panel">
      <h2 id="sales-title" style={{ margin: 0 }}>
        {t("studio.sales.title")}
      </h2>
      <dl className="facts">
        <dt>{t("studio.sales.sold")}</dt>
        <dd data-testid="sold-editions">{s.soldEditions}</dd>
        <dt>{t("studio.sales.airdropped")}</dt>
        <dd data-testid="airdropped-editions">{s.airdroppedEditions}</dd>
        <dt>{t("studio.sales.reserved")}</dt>
        <dd>{s.stock.reserved}</dd>
        <dt>{t("studio.sales.available")}</dt>
        <dd>{s.stock.available}</dd>
        <dt>{t("studio.sales.revenue")}</dt>
        <dd>{formatFen(s.revenueFen)}</dd>
        <dt>{t("studio.sales.paidOrders")}</dt>
        <dd>{s.paidOrders}</dd>
        <dt>{t("studio.sales.mintStatus")}</dt>
        <dd>
          {Object.entries(s.ordersByStatus)
            .filter(([status]) => MINT_STATES.includes(status))
            .map(([status, count]) => `${t(`order.status.${status}`)} ${count}`)
            .join(" · ") || "—"}
        </dd>
      </dl>
      <figure style={{ margin: 0 }}>
        <figcaption className="muted">{t("studio.sales.chart")}</figcaption>
        {s.series.length === 0 ? (
          <p className="muted">{t("studio.sales.noSales")}</p>
        ) : (
          <svg
            className="chart"
            viewBox={`0 0 ${width} ${height + 20}`}
            role="img"
            aria-label={t("studio.sales.chart")}
          >
            {s.series.map((point, i) => {
              const h = Math.round((point.editions / max) * height);
              return (
                <g key={String(point.hour)}>
                  <rect x={10 + i * (barWidth + 2)} y={height - h} width={barWidth} height={h} fill="#7a1f1f">
                    <title>{`${hourLabel(point.hour)}: ${point.editions} · ${formatFen(point.revenueFen)}`}</title>
                  </rect>
                </g>
              );
            })}
            <text x={10} y={height + 16} fontSize="12" fill="#4a443c">
              {hourLabel(s.series[0]!.hour)}
            </text>
            <text x={width - 10} y={height + 16} fontSize="12" fill="#4a443c" textAnchor="end">
              {hourLabel(s.series.at(-1)!.hour)}
            </text>
          </svg>
        )}
      </figure>
    </section>
  );
}
