import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTranslation } from "react-i18next";

import { FormError } from "../../components/States";
import { useTRPC } from "../../lib/trpc";

function parseList(text: string): string[] {
  return text
    .split(/[\s,;，；]+/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** Checks a pasted or uploaded list, shows every entry that cannot receive, then airdrops and follows progress. */
export function AirdropPanel({ collectionId }: { collectionId: number }) {
  const { t } = useTranslation();
  const trpc = useTRPC();
  const [text, setText] = useState("");
  const [airdropId, setAirdropId] = useState<number | null>(null);
  const recipients = parseList(text);
  const check = useMutation(trpc.studio.airdropCheck.mutationOptions());
  const execute = useMutation(
    trpc.studio.airdrop.mutationOptions({ onSuccess: (result) => setAirdropId(result.airdropId) }),
  );
  const progress = useQuery(
    trpc.studio.airdropProgress.queryOptions(
      { airdropId: airdropId ?? 0 },
      { enabled: airdropId !== null, refetchInterval: 2000 },
    ),
  );
  const report = check.data;
  const jobs = progress.data?.jobs ?? {};
  const total = Object.values(jobs).reduce((sum, n) => sum + n, 0);

  return (
    <section className="card page" aria-labelledby="airdrop-title">
      <h2 id="airdrop-title" style={{ margin: 0 }}>
        {t("studio.airdrop.title")}
      </h2>
      <p className="muted">{t("studio.airdrop.help")}</p>
      <div className="field">
        <label htmlFor="airdrop-list">{t("studio.airdrop.list")}</label>
        <textarea
          id="airdrop-list"
          value={text}
          onChange={(e) => {
            setText(e.target.value);
            check.reset();
          }}
        />
      </div>
      <div className="field">
        <label htmlFor="airdrop-file">{t("studio.airdrop.upload")}</label>
        <input
          id="airdrop-file"
          type="file"
          accept=".txt,.csv,text/plain,text/csv"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file !== undefined) void file.text().then((content) => setText(content));
            check.reset();
          }}
        />
      </div>
      <button
        type="button"
        className="button secondary"
        disabled={recipients.length === 0 || check.isPending}
        onClick={() => check.mutate({ collectionId, recipients })}
      >
        {t("studio.airdrop.check")}
      </button>
      {report !== undefined && report.problems.length === 0 && (
        <>
          <p className="badge ok">{t("studio.airdrop.ok", { count: report.ready.length })}</p>
          <button
            type="button"
            className="button"
            disabled={execute.isPending || airdropId !== null}
            onClick={() => execute.mutate({ collectionId, recipients })}
          >
            {t("studio.airdrop.execute")}
          </button>
        </>
      )}
      {report !== undefined && report.problems.length > 0 && (
        <div role="alert">
          <p>{t("studio.airdrop.problems")}</p>
          <ul className="list">
            {report.problems.map((p) => (
              <li key={p.entry}>
                <span className="mono">{p.entry}</span> — {t(`studio.airdrop.problem.${p.problem}`)}
              </li>
            ))}
          </ul>
        </div>
      )}
      {airdropId !== null && <p role="status">{t("studio.airdrop.progress", { minted: jobs.minted ?? 0, total })}</p>}
      <FormError error={check.error ?? execute.error} />
    </section>
  );
}
