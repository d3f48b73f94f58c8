import { useTranslation } from "react-i18next";

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
