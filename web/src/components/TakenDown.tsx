import type { TFunction } from "i18next";
import { useTranslation } from "react-i18next";

/**
 * A takedown's on-chain reason code and its category in words ("监管部门要求"), for the public pages; "—" when the
 * chain has not told the code yet.
 */
export function takedownReason(t: TFunction, code: number | null): { code: string; reason: string } {
  if (code === null) return { code: "—", reason: "—" };
  return { code: String(code), reason: t(`takedown.reason.${code}`, { defaultValue: String(code) }) };
}

/**
 * In place of the artwork of a collection or token taken down by a regulator's order: the artwork is no
 * longer shown, only the fact.
 */
export function TakenDown({ compact = false }: { compact?: boolean }) {
  const { t } = useTranslation();
  return (
    <div
      className="card"
      role="status"
      data-testid="taken-down"
      style={{
        aspectRatio: "1 / 1",
        display: "flex",
        flexDirection: "column",
        alignItems: "center",
        justifyContent: "center",
        textAlign: "center",
        gap: 8,
        maxWidth: "100%",
        overflowWrap: "anywhere",
      }}
    >
      <span className="badge bad">{t("takedown.badge")}</span>
      {!compact && <p className="muted">{t("takedown.notice")}</p>}
    </div>
  );
}
