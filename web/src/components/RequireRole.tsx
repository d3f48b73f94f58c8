import { useTranslation } from "react-i18next";
import { Navigate, useLocation } from "react-router";

import { useMe } from "../lib/session";
import { Loading } from "./States";

type Role = "collector" | "issuer_staff" | "operator";

/** Sends anonymous visitors to the login page and tells other roles this page is not theirs. */
export function RequireRole({ role, children }: { role: Role | "any"; children: React.ReactNode }) {
  const { t } = useTranslation();
  const me = useMe();
  const location = useLocation();
  if (me.isLoading) return <Loading />;
  if (me.data === null || me.data === undefined) {
    return <Navigate to={`/login?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  }
  if (role !== "any" && me.data.role !== role) {
    return (
      <section className="page narrow">
        <p className="notice" role="alert">
          {t("auth.wrongRole")}
        </p>
      </section>
    );
  }
  return <>{children}</>;
}
