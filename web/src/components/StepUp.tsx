import { useMutation } from "@tanstack/react-query";
import { type KeyboardEvent, useEffect, useId, useState } from "react";
import { useTranslation } from "react-i18next";

import { appErrorCode, fieldErrors, useTRPC } from "../lib/trpc";
import { FormError } from "./States";

export type StepUpPurpose = "export" | "gift" | "kyc";

/** Whether the server refused an action until a fresh SMS code is confirmed (step-up). */
export function isStepUpRequired(error: unknown): boolean {
  return appErrorCode(error) === "auth.stepUpRequired";
}

/** The action's error for its own FormError: a step-up refusal is said by the step-up panel instead. */
export function withoutStepUp(error: unknown): unknown {
  return isStepUpRequired(error) ? null : error;
}

/**
 * Once `error` is a step-up refusal: asks for a code sent to the account's own number (send button with its
 * resend countdown, code field, plain-language errors), confirms it, then calls `onConfirmed` so the page
 * retries the action with the same input.
 */
export function StepUpGate(props: { purpose: StepUpPurpose; error: unknown; onConfirmed: () => void }) {
  if (!isStepUpRequired(props.error)) return null;
  return <StepUpPanel purpose={props.purpose} onConfirmed={props.onConfirmed} />;
}

function StepUpPanel({ purpose, onConfirmed }: { purpose: StepUpPurpose; onConfirmed: () => void }) {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const id = useId();
  const [code, setCode] = useState("");
  const [resendIn, setResendIn] = useState(0);

  useEffect(() => {
    if (resendIn <= 0) return;
    const timer = setTimeout(() => setResendIn((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [resendIn]);

  const request = useMutation(
    trpc.auth.requestStepUp.mutationOptions({ onSuccess: (r) => setResendIn(r.resendAfterSeconds) }),
  );
  const confirm = useMutation(trpc.auth.confirmStepUp.mutationOptions({ onSuccess: () => onConfirmed() }));
  const codeValid = /^\d{6}$/.test(code);
  const codeError = fieldErrors(confirm.error, i18n.language).code;

  function submit() {
    if (codeValid && !confirm.isPending) confirm.mutate({ purpose, code });
  }
  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    // The panel may sit inside a page's form: Enter confirms the code, it does not submit that form.
    if (event.key !== "Enter") return;
    event.preventDefault();
    submit();
  }

  return (
    <div className="notice step-up" role="group" aria-labelledby={`${id}-title`} data-testid="step-up">
      <p id={`${id}-title`} style={{ marginTop: 0 }}>
        <strong>{t("stepUp.title")}</strong>
      </p>
      <p className="muted">{t(`stepUp.why.${purpose}`)}</p>
      <div className="row">
        <div className="field">
          <label htmlFor={`${id}-code`}>{t("stepUp.code")}</label>
          <input
            id={`${id}-code`}
            inputMode="numeric"
            autoComplete="one-time-code"
            maxLength={6}
            value={code}
            onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
            onKeyDown={onKeyDown}
            aria-invalid={codeError !== undefined}
            aria-describedby={codeError !== undefined ? `${id}-error` : undefined}
          />
          {codeError !== undefined && (
            <p id={`${id}-error`} className="field-error">
              {codeError}
            </p>
          )}
        </div>
        <div className="field" style={{ flex: "0 0 auto" }}>
          <button
            type="button"
            className="button secondary"
            disabled={resendIn > 0 || request.isPending}
            onClick={() => request.mutate({ purpose })}
          >
            {resendIn > 0 ? t("login.resendIn", { seconds: resendIn }) : t("stepUp.sendCode")}
          </button>
        </div>
      </div>
      {request.isSuccess && <p className="muted">{t("stepUp.codeSent")}</p>}
      <FormError error={request.error ?? confirm.error} shown={["code"]} />
      <button type="button" className="button" disabled={!codeValid || confirm.isPending} onClick={submit}>
        {confirm.isPending ? t("stepUp.confirming") : t("stepUp.confirm")}
      </button>
    </div>
  );
}
