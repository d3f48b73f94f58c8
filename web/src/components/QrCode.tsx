import { toDataURL } from "qrcode";
import { useEffect, useState } from "react";

/** A QR code drawn in the browser (no third-party service sees the payment link). */
export function QrCode({ value, label }: { value: string; label: string }) {
  const [src, setSrc] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    void toDataURL(value, { margin: 1, width: 220, errorCorrectionLevel: "M" }).then((url) => {
      if (live) setSrc(url);
    });
    return () => {
      live = false;
    };
  }, [value]);
  return src === null ? (
    <div className="qr" aria-hidden="true" />
  ) : (
    <img className="qr" src={src} alt={label} width={220} height={220} />
  );
}
