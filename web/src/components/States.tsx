import { useTranslation } from "react-i18next";

import { appErrorMessage } from "../lib/trpc";

export function Loading({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label ?? t("state.loading")}
    </div>
  );
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t, i18n } = useTranslation();
  return (
    <div className="state state-error" role="alert">
      <p>{appErrorMessage(error, i18n.language)}</p>
      {onRetry !== undefined && (
        <button type="button" className="button secondary" onClick={onRetry}>
          {t("state.retry")}
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: React.ReactNode }) {
  return <div className="state state-empty">{children}</div>;
}

/** An inline refusal from the server, in the reader's language. */
export function FormError({ error }: { error: unknown }) {
  const { i18n } = useTranslation();
  if (error === null || error === undefined) return null;
  return (
    <p className="form-error" role="alert">
      {appErrorMessage(error, i18n.language)}
    </p>
  );
}
