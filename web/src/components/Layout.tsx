import { useQuery } from "@tanstack/react-query";
import { Suspense, useEffect } from "react";
import { useTranslation } from "react-i18next";
import { Link, NavLink, Outlet, useLocation } from "react-router";

import { useMe } from "../lib/session";
import { useTRPC } from "../lib/trpc";
import { useLocaleStore } from "../stores/locale";
import { AccountMenu } from "./AccountMenu";
import { Loading } from "./States";

function LanguageToggle() {
  const locale = useLocaleStore((s) => s.locale);
  const setLocale = useLocaleStore((s) => s.setLocale);
  const next = locale === "zh-CN" ? "en" : "zh-CN";
  return (
    <button
      type="button"
      className="button ghost lang-toggle"
      onClick={() => setLocale(next)}
      lang={next}
      aria-label={next === "en" ? "Switch to English" : "切换到中文"}
    >
      {next === "en" ? "EN" : "中文"}
    </button>
  );
}

function Footer() {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const info = useQuery(trpc.site.info.queryOptions(undefined, { staleTime: Infinity }));
  return (
    <footer className="site-footer">
      <p>{t("footer.rules")}</p>
      {info.data !== undefined && (
        <p className="filings">
          {info.data.blockchainFilingNo !== "" && (
            <span>
              {t("footer.blockchainFiling")}: {info.data.blockchainFilingNo}
            </span>
          )}
          {info.data.icpNo !== "" && <span>{info.data.icpNo}</span>}
        </p>
      )}
      <p>
        <Link to="/verify">{t("nav.verify")}</Link>
      </p>
    </footer>
  );
}

export function Layout() {
  const { t, i18n } = useTranslation();
  // The window's title follows the reader's language (index.html carries the Chinese one).
  useEffect(() => {
    document.title = t("brand.documentTitle");
  }, [t, i18n.language]);
  const me = useMe();
  const location = useLocation();
  const user = me.data ?? null;
  const adminLink = user?.role === "issuer_staff" ? "/studio" : user?.role === "operator" ? "/ops" : null;

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {t("nav.skip")}
      </a>
      <header className="site-header">
        <Link to="/" className="brand" aria-label={t("brand.home")}>
          <span className="brand-mark" aria-hidden="true">
            藏
          </span>
          <span className="brand-name">{t("brand.name")}</span>
        </Link>
        <nav aria-label={t("nav.main")}>
          <NavLink to="/" end>
            {t("nav.home")}
          </NavLink>
          {user?.role === "collector" && <NavLink to="/me">{t("nav.mine")}</NavLink>}
          {adminLink !== null && <NavLink to={adminLink}>{t("nav.admin")}</NavLink>}
          {user === null && !me.isLoading && (
            <NavLink to={`/login?next=${encodeURIComponent(location.pathname)}`}>{t("nav.login")}</NavLink>
          )}
        </nav>
        {user !== null && <AccountMenu phoneMasked={user.phoneMasked} />}
        <LanguageToggle />
      </header>
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<Loading />}>
          <Outlet />
        </Suspense>
      </main>
      <Footer />
    </div>
  );
}
