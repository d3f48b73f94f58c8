import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useLocation, useNavigate } from "react-router";

import { FormError } from "../../components/States";
import { safeNext } from "../../lib/next-path";
import { fieldErrors, useTRPC } from "../../lib/trpc";

const PHONE = /^1[3-9]\d{9}$/;

export function LoginPage() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const location = useLocation();
  const [phone, setPhone] = useState("");
  const [code, setCode] = useState("");
  const [resendIn, setResendIn] = useState(0);
  const [touched, setTouched] = useState(false);

  useEffect(() => {
    if (resendIn <= 0) return;
    const timer = setTimeout(() => setResendIn((s) => s - 1), 1000);
    return () => clearTimeout(timer);
  }, [resendIn]);

  const requestCode = useMutation(
    trpc.auth.requestCode.mutationOptions({ onSuccess: (r) => setResendIn(r.resendAfterSeconds) }),
  );
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      onSuccess: async (user) => {
        await queryClient.invalidateQueries();
        const home = user.role === "issuer_staff" ? "/studio" : user.role === "operator" ? "/ops" : "/";
        void navigate(safeNext(location.search, home), { replace: true });
      },
    }),
  );

  const phoneValid = PHONE.test(phone.trim());
  const phoneError =
    touched && !phoneValid ? t("login.phoneInvalid") : fieldErrors(requestCode.error, i18n.language).phone;
  const codeError = fieldErrors(login.error, i18n.language).code;

  function submit(event: FormEvent) {
    event.preventDefault();
    setTouched(true);
    if (!phoneValid || !/^\d{6}$/.test(code.trim())) return;
    login.mutate({ phone: phone.trim(), code: code.trim() });
  }

  return (
    <section className="page narrow">
      <h1>{t("login.title")}</h1>
      <form className="card" onSubmit={submit} noValidate>
        <div className="field">
          <label htmlFor="phone">{t("login.phone")}</label>
          <input
            id="phone"
            name="phone"
            inputMode="numeric"
            autoComplete="tel-national"
            maxLength={11}
            value={phone}
            onChange={(e) => setPhone(e.target.value.replace(/\D/g, ""))}
            onBlur={() => setTouched(true)}
            aria-invalid={phoneError !== undefined}
            aria-describedby={phoneError !== undefined ? "phone-error" : undefined}
          />
          {phoneError !== undefined && (
            <p id="phone-error" className="field-error">
              {phoneError}
            </p>
          )}
        </div>
        <div className="row">
          <div className="field">
            <label htmlFor="code">{t("login.code")}</label>
            <input
              id="code"
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={6}
              value={code}
              onChange={(e) => setCode(e.target.value.replace(/\D/g, ""))}
              aria-invalid={codeError !== undefined}
            />
          </div>
          <div className="field" style={{ flex: "0 0 auto" }}>
            <button
              type="button"
              className="button secondary"
              disabled={!phoneValid || resendIn > 0 || requestCode.isPending}
              onClick={() => requestCode.mutate({ phone: phone.trim() })}
            >
              {resendIn > 0 ? t("login.resendIn", { seconds: resendIn }) : t("login.sendCode")}
            </button>
          </div>
        </div>
        {requestCode.isSuccess && <p className="muted">{t("login.codeSent")}</p>}
        <FormError error={requestCode.error ?? login.error} />
        <button type="submit" className="button block" disabled={login.isPending}>
          {login.isPending ? t("login.loggingIn") : t("login.submit")}
        </button>
        <p className="muted">{t("login.terms")}</p>
      </form>
    </section>
  );
}
