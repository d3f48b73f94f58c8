/**
 * `npx tsx scripts/verify-credential.ts [options] [presentation | -]`: verifies a Shuzang real-name
 * presentation (SD-JWT VC + key binding JWT) the way the public verify page does: the issuer's did:web
 * document and Token Status List are fetched from the issuer's origin; the presentation itself goes nowhere.
 *
 *   --issuer <did:web…>   the trusted issuer (repeatable; default: the did:web of --origin)
 *   --origin <url>        the platform's origin (default http://127.0.0.1:3000)
 *   --aud <audience>      the audience the key binding must name (default <origin>/credential/verify)
 *   --nonce <nonce>       the challenge the holder signed (required: a presentation without the verifier's
 *                         own challenge proves nothing about replay)
 *   --max-age <seconds>   how old the key binding may be (default 300)
 *
 * The presentation is the last argument, or read from standard input when it is `-` or missing. Prints the
 * disclosed and the issuer-signed claims as JSON and exits 0 when valid; prints the failed check (code and
 * message in Chinese and English) and exits 1 otherwise.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import { errorCatalog } from "../server/errors.js";
import {
  CredentialCheckFailed,
  didWebFor,
  fetchDidDocument,
  verifyPresentation,
} from "../shared/credentials/presentation.js";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    issuer: { type: "string", multiple: true },
    origin: { type: "string", default: "http://127.0.0.1:3000" },
    aud: { type: "string" },
    nonce: { type: "string" },
    "max-age": { type: "string", default: "300" },
  },
});

async function main(): Promise<number> {
  const origin = new URL(values.origin!).origin;
  const nonce = values.nonce;
  if (nonce === undefined || nonce === "") {
    console.error("--nonce is required: the challenge you gave the holder");
    return 2;
  }
  const source = positionals[0];
  const presentation = (source === undefined || source === "-" ? readFileSync(0, "utf8") : source).trim();
  try {
    const result = await verifyPresentation(presentation, {
      trustedIssuers: values.issuer ?? [didWebFor(origin)],
      resolveDid: (did) => fetchDidDocument(did),
      fetchStatusList: async (uri) => {
        const response = await fetch(uri, { headers: { accept: "application/statuslist+jwt" } });
        if (!response.ok) throw new Error(`status list: HTTP ${response.status}`);
        return response.text();
      },
      audience: values.aud ?? `${origin}/credential/verify`,
      nonce,
      now: Math.floor(Date.now() / 1000),
      maxAgeSeconds: Number(values["max-age"]),
    });
    console.log(JSON.stringify({ valid: true, ...result }, null, 2));
    return 0;
  } catch (error) {
    if (!(error instanceof CredentialCheckFailed)) throw error;
    const code = `credential.${error.check}` as const;
    const { zh, en } = errorCatalog[code];
    console.log(JSON.stringify({ valid: false, code, zh, en }, null, 2));
    return 1;
  }
}

process.exitCode = await main();
