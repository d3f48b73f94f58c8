import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { type FormEvent, type ReactNode, useState } from "react";
import { useTranslation } from "react-i18next";

import { Empty, FormError, Loading } from "../../components/States";
import { formatDateTime, formatFen, shortHash } from "../../lib/format";
import { fieldErrors, useTRPC } from "../../lib/trpc";
import type { AppRouter } from "../../../../server/trpc/router";

type Pending = { kind: "freeze" | "unfreeze"; userId: number; phone: string };

/** Find a person by phone (answered masked), see what they hold, and freeze or unfreeze them after a confirmation. */
export function Accounts() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [phoneInput, setPhoneInput] = useState("");
  const [phone, setPhone] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [pending, setPending] = useState<Pending | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const account = useQuery(trpc.ops.findAccount.queryOptions({ phone: phone ?? "" }, { enabled: phone !== null }));
  const refresh = () => void queryClient.invalidateQueries({ queryKey: trpc.ops.findAccount.queryKey() });
  const freezeAccount = useMutation(trpc.ops.freezeAccount.mutationOptions({ onSuccess: refresh }));
  const suspend = useMutation(trpc.gifts.suspend.mutationOptions({ onSuccess: refresh }));
  const a = account.data;
  const reasonError = fieldErrors(freezeAccount.error ?? suspend.error, i18n.language).reason;

  function onFind(event: FormEvent) {
    event.preventDefault();
    setDone(null);
    setPhone(phoneInput.trim());
  }

  function confirm() {
    if (pending === null) return;
    const frozen = pending.kind === "freeze";
    const who = pending.phone;
    setPending(null);
    freezeAccount.mutate(
      { userId: pending.userId, frozen, reason },
      {
        onSuccess: (result) =>
          setDone(
            t(frozen ? "ops.accounts.frozenDone" : "ops.accounts.unfrozenDone", {
              phone: who,
              tx: result.txHash === null ? "—" : shortHash(result.txHash),
            }),
          ),
      },
    );
  }

  return (
    <div className="page">
      <form className="toolbar" onSubmit={onFind}>
        <div className="field">
          <label htmlFor="ops-phone">{t("ops.accounts.phone")}</label>
          <input
            id="ops-phone"
            inputMode="tel"
            autoComplete="off"
            value={phoneInput}
            onChange={(e) => setPhoneInput(e.target.value)}
          />
        </div>
        <button type="submit" className="button secondary">
          {t("ops.accounts.find")}
        </button>
      </form>
      {account.isLoading && phone !== null && <Loading />}
      <FormError error={account.error} shown={[]} />
      {a !== undefined && (
        <article className="card page" data-testid="ops-account">
          <h3 style={{ margin: 0 }}>
            {t("ops.accounts.account", { phone: a.phoneMasked, id: a.id })}{" "}
            <span className="badge">{t(`ops.accounts.role.${a.role}`)}</span>
          </h3>
          <dl className="facts">
            <dt>{t("ops.accounts.verification")}</dt>
            <dd>
              {t(`ops.accounts.kycState.${a.verification.state}`)}
              {a.verification.nameMasked !== null && ` · ${a.verification.nameMasked}`}
              {a.verification.idNumberMasked !== null && ` · ${a.verification.idNumberMasked}`}
            </dd>
            <dt>{t("ops.accounts.freezeState")}</dt>
            <dd data-testid="freeze-state">
              {a.frozen === null ? (
                t("ops.accounts.unknownFrozen")
              ) : a.frozen ? (
                <span className="badge bad">{t("ops.accounts.frozen")}</span>
              ) : (
                <span className="badge ok">{t("ops.accounts.notFrozen")}</span>
              )}
            </dd>
            <dt>{t("ops.accounts.gifting")}</dt>
            <dd>{t(a.giftingSuspended ? "ops.accounts.giftingSuspended" : "ops.accounts.giftingActive")}</dd>
          </dl>
          <details>
            <summary>{t("ops.accounts.ordersOf", { count: a.orders.length })}</summary>
            <ul className="list">
              {a.orders.map((o) => (
                <li key={o.orderNo}>
                  <span className="mono">{o.orderNo}</span> · {o.title ?? `#${o.collectionId}`} ·{" "}
                  {formatFen(o.amountFen)} · {t(`order.status.${o.status}`)} ·{" "}
                  {formatDateTime(o.createdAt, i18n.language)}
                </li>
              ))}
            </ul>
          </details>
          <details>
            <summary>{t("ops.accounts.collectiblesOf", { count: a.collectibles.length })}</summary>
            <ul className="list">
              {a.collectibles.map((c) => (
                <li key={`${c.collectionId}-${c.tokenId}`}>
                  {c.title} #{c.tokenId} · {c.issuerName}
                </li>
              ))}
            </ul>
          </details>
          <ReasonField
            id="ops-reason"
            label={t("ops.reason")}
            value={reason}
            onChange={setReason}
            error={reasonError}
          />
          <div className="toolbar">
            <button
              type="button"
              className="button"
              disabled={freezeAccount.isPending}
              onClick={() => setPending({ kind: "freeze", userId: a.id, phone: a.phoneMasked })}
            >
              {t("ops.accounts.freeze")}
            </button>
            <button
              type="button"
              className="button secondary"
              disabled={freezeAccount.isPending}
              onClick={() => setPending({ kind: "unfreeze", userId: a.id, phone: a.phoneMasked })}
            >
              {t("ops.accounts.unfreeze")}
            </button>
            {([true, false] as const).map((suspended) => (
              <button
                key={String(suspended)}
                type="button"
                className="button ghost"
                disabled={suspend.isPending}
                onClick={() =>
                  suspend.mutate(
                    { userId: a.id, suspended, reason },
                    {
                      onSuccess: () =>
                        setDone(
                          t(suspended ? "ops.accounts.suspendedDone" : "ops.accounts.restoredDone", {
                            phone: a.phoneMasked,
                          }),
                        ),
                    },
                  )
                }
              >
                {t(suspended ? "ops.accounts.suspend" : "ops.accounts.restore")}
              </button>
            ))}
          </div>
          {pending !== null && (
            <ConfirmDialog
              id="ops-confirm-text"
              testId="confirm-dialog"
              onCancel={() => setPending(null)}
              onConfirm={confirm}
            >
              <p id="ops-confirm-text" style={{ margin: 0 }}>
                {t(pending.kind === "freeze" ? "ops.accounts.confirmFreeze" : "ops.accounts.confirmUnfreeze", {
                  phone: pending.phone,
                  reason: reason.trim() === "" ? "—" : reason.trim(),
                })}
              </p>
            </ConfirmDialog>
          )}
          <FormError error={freezeAccount.error ?? suspend.error} shown={["reason"]} />
          {done !== null && <p role="status">{done}</p>}
        </article>
      )}
      {phone !== null && account.data === undefined && !account.isLoading && account.error === null && (
        <Empty>{t("ops.accounts.find")}</Empty>
      )}
      <TokenFreeze />
    </div>
  );
}

type TokenTarget = inferRouterOutputs<AppRouter>["ops"]["tokenForFreeze"];

/**
 * Freeze or unfreeze one token of a collection (on chain), after a confirmation that says what will happen to
 * which collectible and whose (the collection's title, the token number, the holder's masked phone).
 */
export function TokenFreeze() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [collectionId, setCollectionId] = useState("");
  const [tokenId, setTokenId] = useState("");
  const [reason, setReason] = useState("");
  const [pending, setPending] = useState<{ frozen: boolean; target: TokenTarget } | null>(null);
  const [lookupError, setLookupError] = useState<unknown>(null);
  const [looking, setLooking] = useState(false);
  const freezeToken = useMutation(trpc.ops.freezeToken.mutationOptions());
  const [done, setDone] = useState<string | null>(null);
  const errors = fieldErrors(lookupError ?? freezeToken.error, i18n.language);

  async function ask(frozen: boolean) {
    setDone(null);
    setPending(null);
    setLookupError(null);
    freezeToken.reset();
    setLooking(true);
    try {
      const target = await queryClient.fetchQuery(
        trpc.ops.tokenForFreeze.queryOptions(
          { collectionId: Number(collectionId), tokenId: Number(tokenId) },
          { staleTime: 0, retry: false },
        ),
      );
      setPending({ frozen, target });
    } catch (error) {
      setLookupError(error);
    } finally {
      setLooking(false);
    }
  }

  function confirm() {
    if (pending === null) return;
    const { frozen, target } = pending;
    setPending(null);
    const words = { title: target.title, token: target.tokenId, holder: target.holderMasked };
    freezeToken.mutate(
      { collectionId: target.collectionId, tokenId: target.tokenId, frozen, reason },
      {
        onSuccess: (r) =>
          setDone(
            t(frozen ? "ops.accounts.tokenFrozenDone" : "ops.accounts.tokenUnfrozenDone", {
              ...words,
              tx: r.txHash === null ? "—" : shortHash(r.txHash),
            }),
          ),
      },
    );
  }

  const field = (key: "collectionId" | "tokenId", id: string, value: string, set: (value: string) => void) => (
    <div className="field">
      <label htmlFor={id}>{t(`ops.accounts.${key}`)}</label>
      <input
        id={id}
        inputMode="numeric"
        value={value}
        onChange={(e) => set(e.target.value)}
        aria-invalid={errors[key] !== undefined}
      />
      {errors[key] !== undefined && <p className="field-error">{errors[key]}</p>}
    </div>
  );

  return (
    <details className="card page" data-testid="token-freeze">
      <summary>{t("ops.accounts.freezeToken")}</summary>
      <div className="toolbar">
        {field("collectionId", "ops-collection", collectionId, setCollectionId)}
        {field("tokenId", "ops-token", tokenId, setTokenId)}
        <div className="field">
          <label htmlFor="ops-token-reason">{t("ops.reason")}</label>
          <input
            id="ops-token-reason"
            value={reason}
            onChange={(e) => setReason(e.target.value)}
            maxLength={200}
            aria-invalid={errors.reason !== undefined}
          />
          {errors.reason !== undefined && <p className="field-error">{errors.reason}</p>}
        </div>
      </div>
      <div className="toolbar">
        {([true, false] as const).map((frozen) => (
          <button
            key={String(frozen)}
            type="button"
            className={frozen ? "button" : "button secondary"}
            disabled={freezeToken.isPending || looking}
            onClick={() => void ask(frozen)}
          >
            {t(frozen ? "ops.accounts.freeze" : "ops.accounts.unfreeze")}
          </button>
        ))}
      </div>
      {pending !== null && (
        <ConfirmDialog
          id="ops-token-confirm-text"
          testId="token-confirm-dialog"
          onCancel={() => setPending(null)}
          onConfirm={confirm}
        >
          <p id="ops-token-confirm-text" style={{ margin: 0 }}>
            {t(pending.frozen ? "ops.accounts.confirmTokenFreeze" : "ops.accounts.confirmTokenUnfreeze", {
              title: pending.target.title,
              token: pending.target.tokenId,
              holder: pending.target.holderMasked,
              reason: reason.trim() === "" ? "—" : reason.trim(),
            })}
          </p>
          {pending.target.frozen !== null && (
            <p className="muted" style={{ margin: 0 }}>
              {t(pending.target.frozen ? "ops.accounts.tokenAlreadyFrozen" : "ops.accounts.tokenNotFrozen")}
            </p>
          )}
        </ConfirmDialog>
      )}
      <FormError error={lookupError ?? freezeToken.error} shown={["collectionId", "tokenId", "reason"]} />
      {done !== null && <p role="status">{done}</p>}
    </details>
  );
}

/** An operator's reason for an action (at most 200 characters), with the server's message for it beside it. */
export function ReasonField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  error: string | undefined;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        value={props.value}
        onChange={(e) => props.onChange(e.target.value)}
        maxLength={200}
        aria-invalid={props.error !== undefined}
      />
      {props.error !== undefined && <p className="field-error">{props.error}</p>}
    </div>
  );
}

/** Says what an action will do to whom and waits for 确认 or 取消; `id` names the paragraph that says it. */
export function ConfirmDialog(props: {
  id: string;
  testId: string;
  onCancel: () => void;
  onConfirm: () => void;
  children: ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <div className="notice page" role="alertdialog" aria-labelledby={props.id} data-testid={props.testId}>
      {props.children}
      <div className="dialog-actions">
        <button type="button" className="button secondary" onClick={props.onCancel}>
          {t("common.cancel")}
        </button>
        <button type="button" className="button" onClick={props.onConfirm}>
          {t("ops.accounts.confirm")}
        </button>
      </div>
    </div>
  );
}
