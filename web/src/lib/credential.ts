import { SignJWT } from "jose";

import {
  CredentialCheckFailed,
  type VerifiedPresentation,
  createPresentation,
  didWebFor,
  fetchDidDocument,
  verifyPresentation,
  webCryptoSigner,
} from "../../../shared/credentials/presentation";
import { credentialCheckMessages } from "../../../shared/credentials/messages";
import type { HolderKey } from "./holder-key";

/** The claims a collector may choose to show; everything else the issuer signed is always visible. */
export const DISCLOSABLE = ["identity_commitment", "holder_status"] as const;

/** The platform's did:web (this origin) and the audience its public verify page puts in presentations. */
export const platformDid = () => didWebFor(window.location.origin);
export const verifyPageAudience = () => `${window.location.origin}/credential/verify`;

/** The proof of the holder key at issuance: a JWT over the server's nonce, signed by the key it names. */
export function holderProof(key: HolderKey, nonce: string, audience: string): Promise<string> {
  return new SignJWT({ nonce })
    .setProtectedHeader({ alg: "ES256", typ: "openid4vci-proof+jwt", jwk: key.publicJwk })
    .setAudience(audience)
    .setIssuedAt()
    .sign(key.privateKey);
}

export function present(
  credential: string,
  disclose: readonly string[],
  binding: { aud: string; nonce: string },
  key: HolderKey,
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return createPresentation(credential, disclose, { ...binding, iat }, webCryptoSigner(key.privateKey));
}

export type VerifyOutcome =
  { ok: true; result: VerifiedPresentation } | { ok: false; code: string; zh: string; en: string };

/**
 * Verifies a presentation in this browser, against the platform's did.json and status list: the presentation
 * itself is never sent anywhere.
 */
export async function verifyInBrowser(presentation: string, nonce: string): Promise<VerifyOutcome> {
  try {
    const result = await verifyPresentation(presentation, {
      trustedIssuers: [platformDid()],
      resolveDid: (did) => fetchDidDocument(did),
      fetchStatusList: async (uri) => {
        const response = await fetch(uri, { headers: { accept: "application/statuslist+jwt" }, cache: "no-store" });
        if (!response.ok) throw new Error(`status list: HTTP ${response.status}`);
        return response.text();
      },
      audience: verifyPageAudience(),
      nonce,
      now: Math.floor(Date.now() / 1000),
    });
    return { ok: true, result };
  } catch (error) {
    const check = error instanceof CredentialCheckFailed ? error.check : "malformed";
    const code = `credential.${check}` as const;
    const entry = credentialCheckMessages[code];
    return { ok: false, code, zh: entry.zh, en: entry.en };
  }
}
