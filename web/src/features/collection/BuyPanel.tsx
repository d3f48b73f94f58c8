import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";

import { Countdown } from "../../components/Countdown";
import { FormError } from "../../components/States";
import { formatFen, newIdempotencyKey } from "../../lib/format";
import { useKycStatus, useMe } from "../../lib/session";
import { useTRPC } from "../../lib/trpc";
import { useNow } from "../../lib/use-now";
import { buyState } from "./buy-state";
import { useLiveStock } from "./use-live-stock";

interface BuyPanelProps {
  collection: {
    id: number;
    priceFen: number;
    editionSize: number;
    perPersonLimit: number;
    saleStartsAt: Date | string;
    saleEndsAt: Date | string;
  };
}

export function BuyPanel({ collection }: BuyPanelProps) {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const now = useNow(1000);
  const me = useMe();
  const user = me.data ?? null;
  const isCollector = user?.role === "collector";
  const kyc = useKycStatus(isCollector);
  const verified = kyc.data?.state === "verified";
  // Pushed by the server while the stream is up; polled every 3 s otherwise.
  const liveStock = useLiveStock(collection.id);
  const stock = useQuery(
    trpc.drops.stock.queryOptions(
      { collectionId: collection.id },
      { refetchInterval: liveStock ? false : 3000, staleTime: liveStock ? Infinity : 0 },
    ),
  );
  const allowance = useQuery(trpc.drops.allowance.queryOptions({ collectionId: collection.id }, { enabled: verified }));
  const lottery = useQuery(trpc.lottery.standing.queryOptions({ collectionId: collection.id }, { enabled: verified }));
  const [quantity, setQuantity] = useState(1);
  // One key per purchase attempt: a retried request after a network error returns the same order.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);

  const reserve = useMutation(
    trpc.drops.reserve.mutationOptions({
      onSuccess: (order) => {
        setIdempotencyKey(newIdempotencyKey());
        void queryClient.invalidateQueries({
          queryKey: trpc.drops.allowance.queryKey({ collectionId: collection.id }),
        });
        void navigate(`/checkout/${order.orderNo}`);
      },
      onError: () => {
        void stock.refetch();
        void allowance.refetch();
      },
    }),
  );
  const register = useMutation(
    trpc.lottery.register.mutationOptions({
      onSuccess: () => void lottery.refetch(),
    }),
  );

  const state = buyState({
    now,
    user,
    kyc: kyc.data,
    collection,
    stock: stock.data,
    allowance: allowance.data,
    lottery: lottery.data ?? undefined,
  });
  const available = stock.data?.available;
  const sold = stock.data === undefined ? 0 : stock.data.sold + stock.data.reserved;

  return (
    <div className="card buy-panel" aria-live="polite">
      <div className="row" style={{ alignItems: "baseline" }}>
        <span className="price">{formatFen(collection.priceFen)}</span>
        <span className="muted" data-testid="stock">
          {available === undefined
            ? "\u00a0"
            : t("sale.remainingOf", { count: available, total: collection.editionSize })}
        </span>
      </div>
      <div className="stock-bar" aria-hidden="true">
        <span style={{ width: `${Math.round((sold / collection.editionSize) * 100)}%` }} />
      </div>
      {new Date(collection.saleStartsAt) > now && (
        <Countdown target={collection.saleStartsAt} label={t("sale.startsIn")} onDone={() => void stock.refetch()} />
      )}
      {state.kind === "buy" && (
        <>
          {state.maxQuantity > 1 && (
            <div className="field">
              <label htmlFor="quantity">{t("buy.quantity")}</label>
              <select id="quantity" value={quantity} onChange={(e) => setQuantity(Number(e.target.value))}>
                {Array.from({ length: state.maxQuantity }, (_, i) => i + 1).map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            </div>
          )}
          <button
            type="button"
            className="button block"
            disabled={reserve.isPending}
            onClick={() =>
              reserve.mutate({
                collectionId: collection.id,
                quantity: Math.min(quantity, state.maxQuantity),
                idempotencyKey,
              })
            }
          >
            {reserve.isPending ? t("buy.reserving") : t("buy.buyNow")}
          </button>
        </>
      )}
      {state.kind === "registerLottery" && (
        <button
          type="button"
          className="button block"
          disabled={register.isPending}
          onClick={() => register.mutate({ collectionId: collection.id })}
        >
          {t("buy.registerLottery")}
        </button>
      )}
      {state.kind === "login" && (
        <Link className="button block" to={`/login?next=${encodeURIComponent(`/c/${collection.id}`)}`}>
          {t("buy.loginToBuy")}
        </Link>
      )}
      {state.kind === "verify" && (
        <Link className="button block" to={`/me/verify?next=${encodeURIComponent(`/c/${collection.id}`)}`}>
          {t("buy.verifyToBuy")}
        </Link>
      )}
      {state.kind === "blocked" && (
        <>
          <button type="button" className="button block" disabled aria-describedby="buy-reason">
            {t(`buy.button.${state.reason}`)}
          </button>
          <p id="buy-reason" className="muted" data-testid="buy-reason">
            {t(`buy.reason.${state.reason}`, { limit: collection.perPersonLimit })}
          </p>
        </>
      )}
      <FormError error={reserve.error ?? register.error} />
      <p className="muted">{t("buy.limitNote", { limit: collection.perPersonLimit })}</p>
    </div>
  );
}
