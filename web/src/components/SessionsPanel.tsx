import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslation } from "react-i18next";

import { formatDateTime } from "../lib/format";
import { useTRPC } from "../lib/trpc";
import { FormError } from "./States";

/** A short name for a browser from its user agent. */
function deviceName(userAgent: string | null): string {
  if (userAgent === null || userAgent === "") return "—";
  const browser = /Edg\//.test(userAgent)
    ? "Edge"
    : /Chrome\//.test(userAgent)
      ? "Chrome"
      : /Firefox\//.test(userAgent)
        ? "Firefox"
        : /Safari\//.test(userAgent)
          ? "Safari"
          : "";
  const system = /iPhone|iPad/.test(userAgent)
    ? "iOS"
    : /Android/.test(userAgent)
      ? "Android"
      : /Windows/.test(userAgent)
        ? "Windows"
        : /Mac OS/.test(userAgent)
          ? "macOS"
          : /Linux/.test(userAgent)
            ? "Linux"
            : "";
  return [browser, system].filter((part) => part !== "").join(" · ") || userAgent.slice(0, 40);
}

/** The account's signed-in devices; any other one can be signed out. */
export function SessionsPanel() {
  const { t, i18n } = useTranslation();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.auth.sessions.queryOptions());
  const revoke = useMutation(
    trpc.auth.revokeSession.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.auth.sessions.queryKey() }),
    }),
  );
  return (
    <details className="card sessions-panel" data-testid="sessions-panel">
      <summary>{t("sessions.title")}</summary>
      <ul className="list">
        {sessions.data?.map((s) => (
          <li key={s.id} className="session-row">
            <span>
              {deviceName(s.userAgent)} {s.current && <span className="badge ok">{t("sessions.current")}</span>}
              <br />
              <span className="muted">
                {t("sessions.lastSeen", { at: formatDateTime(s.lastSeenAt, i18n.language) })}
              </span>
            </span>
            {!s.current && (
              <button
                type="button"
                className="button ghost"
                disabled={revoke.isPending}
                onClick={() => revoke.mutate({ sessionId: s.id })}
              >
                {t("sessions.revoke")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {sessions.data?.length === 1 && <p className="muted">{t("sessions.none")}</p>}
      <FormError error={revoke.error} />
    </details>
  );
}
