import { useTranslation } from "react-i18next";

import { APP_CODE_FIELDS } from "../lib/field-errors";
import { appErrorCode, appErrorMessage, fieldErrors } from "../lib/trpc";

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

/**
 * An inline refusal from the server, in the reader's language. A refused input names each field's problem in plain
 * words, except the fields the form already shows next to themselves (`shown`).
 */
export function FormError({ error, shown = [] }: { error: unknown; shown?: readonly string[] }) {
  const { t, i18n } = useTranslation();
  if (error === null || error === undefined) return null;
  // A refusal of one field's rule is shown next to that field when the form shows it.
  const field = APP_CODE_FIELDS[appErrorCode(error)];
  if (field !== undefined && shown.includes(field)) return null;
  if (appErrorCode(error) === "input.invalid") {
    const fields = Object.entries(fieldErrors(error, i18n.language)).filter(([field]) => !shown.includes(field));
    return (
      <div className="form-error" role="alert">
        {fields.length === 0 ? (
          <p>{t("state.checkFields")}</p>
        ) : (
          fields.map(([field, message]) => <p key={field}>{message}</p>)
        )}
      </div>
    );
  }
  return (
    <p className="form-error" role="alert">
      {appErrorMessage(error, i18n.language)}
    </p>
  );
}
