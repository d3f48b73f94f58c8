import { useState } from "react";
import { useTranslation } from "react-i18next";

import { QrCode } from "../../components/QrCode";
import { type VerifyOutcome, verifyInBrowser, verifyPageAudience } from "../../lib/credential";
import { formatDateTime } from "../../lib/format";

const newChallenge = () => {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
};

/**
 * Anyone checks a real-name presentation here. The page makes a challenge (nonce) for the holder to sign,
 * then verifies the pasted or scanned presentation in the browser against the platform's did.json and status
 * list: the presentation is never sent to any server.
 */
export function VerifyCredentialPage() {
  const { t, i18n } = useTranslation();
  const [nonce, setNonce] = useState(newChallenge);
  const [text, setText] = useState("");
  const [outcome, setOutcome] = useState<VerifyOutcome | null>(null);
  const [busy, setBusy] = useState(false);
  const holderLink = `${window.location.origin}/me/credential?nonce=${nonce}&aud=${encodeURIComponent(verifyPageAudience())}`;

  async function verify() {
    setBusy(true);
    setOutcome(await verifyInBrowser(text, nonce));
    setBusy(false);
  }

  async function scan() {
    // Where the browser has a barcode reader (BarcodeDetector), a photo of the holder's QR code fills the field.
    const Detector = (
      window as unknown as {
        BarcodeDetector?: new (o: object) => { detect(i: ImageBitmap): Promise<{ rawValue: string }[]> };
      }
    ).BarcodeDetector;
    const input = document.createElement("input");
    input.type = "file";
    input.accept = "image/*";
    input.capture = "environment";
    input.onchange = async () => {
      const file = input.files?.[0];
      if (file === undefined || Detector === undefined) return;
      const codes = await new Detector({ formats: ["qr_code"] }).detect(await createImageBitmap(file));
      if (codes[0] !== undefined) setText(codes[0].rawValue);
    };
    input.click();
  }

  const claims = (record: Record<string, unknown>) =>
    Object.entries(record).map(([key, value]) => (
      <div key={key} className="row">
        <dt>{t(`credential.claim.${key}`, { defaultValue: key })}</dt>
        <dd className="mono">{typeof value === "object" ? JSON.stringify(value) : String(value)}</dd>
      </div>
    ));

  return (
    <section className="page narrow">
      <h1>{t("credentialVerify.title")}</h1>
      <p className="muted">{t("credentialVerify.intro")}</p>
      <div className="card">
        <h2>{t("credentialVerify.challenge")}</h2>
        <p>
          <span className="mono" data-testid="verify-nonce">
            {nonce}
          </span>{" "}
          <button type="button" className="button ghost" onClick={() => setNonce(newChallenge())}>
            {t("credentialVerify.newChallenge")}
          </button>
        </p>
        <QrCode value={holderLink} label={t("credentialVerify.challengeQr")} />
        <p className="muted">{t("credentialVerify.challengeHelp")}</p>
      </div>
      <div className="card">
        <label>
          {t("credentialVerify.paste")}
          <textarea rows={6} value={text} onChange={(event) => setText(event.target.value)} />
        </label>
        <div className="row">
          <button type="button" className="button" onClick={() => void verify()} disabled={busy || text.trim() === ""}>
            {t("credentialVerify.verify")}
          </button>
          {"BarcodeDetector" in window && (
            <button type="button" className="button secondary" onClick={() => void scan()}>
              {t("credentialVerify.scan")}
            </button>
          )}
        </div>
      </div>
      {outcome !== null && (
        <div className="card" role="status" data-testid="verify-outcome">
          {outcome.ok ? (
            <>
              <p>
                <span className="badge ok">{t("credentialVerify.valid")}</span>
              </p>
              <h3>{t("credentialVerify.disclosed")}</h3>
              <dl className="facts" data-testid="disclosed-claims">
                {Object.keys(outcome.result.disclosed).length === 0 ? (
                  <p className="muted">{t("credentialVerify.noneDisclosed")}</p>
                ) : (
                  claims(outcome.result.disclosed)
                )}
              </dl>
              <h3>{t("credentialVerify.signed")}</h3>
              <dl className="facts">{claims(outcome.result.signed)}</dl>
              <p className="muted">
                {t("credentialVerify.validUntil")}{" "}
                {formatDateTime(new Date(outcome.result.expiresAt * 1000), i18n.language)}
              </p>
            </>
          ) : (
            <p>
              <span className="badge warn">{t("credentialVerify.invalid")}</span>{" "}
              <span data-testid="verify-refusal" data-code={outcome.code}>
                {i18n.language.startsWith("zh") ? outcome.zh : outcome.en}
              </span>
            </p>
          )}
        </div>
      )}
    </section>
  );
}
