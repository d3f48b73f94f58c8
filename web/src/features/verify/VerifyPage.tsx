import { useQuery } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate, useParams } from "react-router";

import { ErrorState, Loading } from "../../components/States";
import { takedownReason } from "../../components/TakenDown";
import { formatDate, formatDateTime } from "../../lib/format";
import { plainHex, sha256Hex } from "../../lib/sha256";
import { useTRPC } from "../../lib/trpc";

type HashCheck =
  | { state: "idle" }
  | { state: "hashing"; source: "server" | "file" }
  | { state: "done"; source: "server" | "file"; hash: string; matches: boolean; fileName?: string }
  | { state: "failed" };

/**
 * Public verification: what the chain says about a token, and whether the
 * artwork's bytes hash to the content hash recorded on chain. The hash is
 * computed here in the browser, so nobody has to trust the platform for it.
 */
export function VerifyPage() {
  const { t, i18n } = useTranslation();
  const params = useParams();
  const navigate = useNavigate();
  const trpc = useTRPC();
  const [contract, setContract] = useState(params.contractAddress ?? "");
  const [tokenText, setTokenText] = useState(params.tokenId ?? "");
  const tokenId = Number(params.tokenId);
  const ready = /^0x[0-9a-fA-F]{40}$/.test(params.contractAddress ?? "") && Number.isInteger(tokenId) && tokenId > 0;
  const facts = useQuery(
    trpc.verify.token.queryOptions({ contractAddress: params.contractAddress ?? "", tokenId }, { enabled: ready }),
  );
  const [check, setCheck] = useState<HashCheck>({ state: "idle" });

  // A taken-down token's artwork is no longer served: there is nothing to hash on the server's side.
  const expected = facts.data === undefined || facts.data.takenDown !== null ? null : plainHex(facts.data.contentHash);

  useEffect(() => {
    if (expected === null) return;
    let live = true;
    setCheck({ state: "hashing", source: "server" });
    fetch(`/media/${expected}`)
      .then(async (response) => {
        if (!response.ok) throw new Error(String(response.status));
        const hash = await sha256Hex(await response.arrayBuffer());
        if (live) setCheck({ state: "done", source: "server", hash, matches: hash === expected });
      })
      .catch(() => live && setCheck({ state: "failed" }));
    return () => {
      live = false;
    };
  }, [expected]);

  async function checkFile(file: File) {
    if (expected === null) return;
    setCheck({ state: "hashing", source: "file" });
    const hash = await sha256Hex(await file.arrayBuffer());
    setCheck({ state: "done", source: "file", hash, matches: hash === expected, fileName: file.name });
  }

  function onSubmit(event: FormEvent) {
    event.preventDefault();
    void navigate(`/verify/${contract.trim()}/${tokenText.trim()}`);
  }

  return (
    <section className="page">
      <h1>{t("verify.title")}</h1>
      <p className="muted">{t("verify.help")}</p>
      <form className="card" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="verify-contract">{t("verify.contract")}</label>
          <input
            id="verify-contract"
            className="mono"
            value={contract}
            onChange={(e) => setContract(e.target.value)}
            placeholder="0x…"
            spellCheck={false}
          />
        </div>
        <div className="field">
          <label htmlFor="verify-token">{t("verify.tokenId")}</label>
          <input
            id="verify-token"
            inputMode="numeric"
            value={tokenText}
            onChange={(e) => setTokenText(e.target.value)}
          />
        </div>
        <button type="submit" className="button">
          {t("verify.submit")}
        </button>
      </form>
      {params.contractAddress !== undefined && !ready && (
        <p className="form-error" role="alert" data-testid="verify-malformed">
          {t("verify.malformed")}
        </p>
      )}
      {ready && facts.isLoading && <Loading />}
      {facts.error && <ErrorState error={facts.error} />}
      {facts.data !== undefined && (
        <div className="card page" data-testid="verify-result">
          <p>
            <span className="badge ok">{t("verify.genuine")}</span>{" "}
            {facts.data.takenDown !== null && (
              <span className="badge bad" data-testid="verify-taken-down">
                {t("takedown.badge")}
              </span>
            )}
          </p>
          {facts.data.takenDown !== null && (
            <p data-testid="verify-takedown-facts" style={{ overflowWrap: "anywhere" }}>
              {t(facts.data.takenDown.scope === "collection" ? "takedown.verifyCollection" : "takedown.verifyToken", {
                ...takedownReason(t, facts.data.takenDown.reasonCode),
              })}{" "}
              <span className="mono">{facts.data.takenDown.txHash}</span>
            </p>
          )}
          <dl className="facts">
            <dt>{t("verify.name")}</dt>
            <dd>{facts.data.name}</dd>
            <dt>{t("verify.edition")}</dt>
            <dd>{facts.data.edition}</dd>
            <dt>{t("verify.holder")}</dt>
            <dd className="mono">{facts.data.ownerMasked ?? "—"}</dd>
            <dt>{t("verify.acquired")}</dt>
            <dd>{facts.data.acquiredAt === null ? "—" : formatDateTime(facts.data.acquiredAt, i18n.language)}</dd>
            <dt>{t("verify.unlocksAt")}</dt>
            <dd>{facts.data.unlocksAt === null ? "—" : formatDate(facts.data.unlocksAt, i18n.language)}</dd>
            <dt>{t("verify.contentHash")}</dt>
            <dd className="mono">{plainHex(facts.data.contentHash)}</dd>
          </dl>
          <div aria-live="polite" data-testid="hash-check">
            {check.state === "hashing" && <Loading label={t("verify.hashing")} />}
            {check.state === "failed" && <p className="form-error">{t("verify.fetchFailed")}</p>}
            {check.state === "done" && (
              <>
                <p>
                  <span className={`badge ${check.matches ? "ok" : "bad"}`} data-testid="hash-verdict">
                    {check.matches ? t("verify.match") : t("verify.mismatch")}
                  </span>{" "}
                  {check.source === "file" ? t("verify.fromFile", { name: check.fileName }) : t("verify.fromServer")}
                </p>
                <p className="mono">
                  {t("verify.computed")}: {check.hash}
                </p>
              </>
            )}
          </div>
          <div className="field">
            <label htmlFor="verify-file">{t("verify.ownFile")}</label>
            <input
              id="verify-file"
              type="file"
              onChange={(e) => {
                const file = e.target.files?.[0];
                if (file !== undefined) void checkFile(file);
              }}
            />
          </div>
        </div>
      )}
    </section>
  );
}
