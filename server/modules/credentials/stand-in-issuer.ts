import { generateKeyPairSync } from "node:crypto";

import type { JWK } from "jose";

import { type IssuerKeys, issuerKeys } from "./keys.js";
import { createPresentation, issueSdJwtVc, webCryptoSigner } from "../../../shared/credentials/presentation.js";

/**
 * A stand-in for a trusted identity issuer (another licensed platform, a government app) and the person's
 * wallet, for tests and the demo. It speaks the real format: its own did:web document and ES256-signed
 * SD-JWT VCs whose `sub` (a stable pseudonymous subject id) and `age_over_18` are selectively disclosable,
 * bound to a holder key. It vouches for anyone, so production refuses it (CREDENTIAL_DEMO_ISSUER).
 */
export interface StandInIssuer {
  did: string;
  keys: IssuerKeys;
  /** An SD-JWT VC for `subject`, bound to `holderJwk`. */
  issue(holderJwk: JWK, subject: { sub: string; adult: boolean }, validSeconds?: number): Promise<string>;
  /**
   * The wallet's part: a fresh holder key, a credential bound to it and a presentation of `sub` and
   * `age_over_18` for the verifier's audience and nonce.
   */
  present(binding: { aud: string; nonce: string }, subject: { sub: string; adult: boolean }): Promise<string>;
}

export const STAND_IN_VCT = "urn:shuzang:stand-in:adult-resident";

export function createStandInIssuer(did: string, clock: () => Date): StandInIssuer {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const keys = issuerKeys(did, new Map([["stand-in-1", privateKey]]), "stand-in-1");
  const now = () => Math.floor(clock().getTime() / 1000);

  async function issue(holderJwk: JWK, subject: { sub: string; adult: boolean }, validSeconds = 30 * 86_400) {
    return issueSdJwtVc(
      {
        iss: did,
        vct: STAND_IN_VCT,
        iat: now(),
        exp: now() + validSeconds,
        cnf: { jwk: holderJwk },
        sub: subject.sub,
        age_over_18: subject.adult,
      },
      ["sub", "age_over_18"],
      { kid: keys.activeKid, sign: keys.sign },
    );
  }

  return {
    did,
    keys,
    issue,
    async present(binding, subject) {
      const holder = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const { kty, crv, x, y } = (await crypto.subtle.exportKey("jwk", holder.publicKey)) as JWK;
      const credential = await issue({ kty, crv, x, y }, subject);
      return createPresentation(
        credential,
        ["sub", "age_over_18"],
        { ...binding, iat: now() },
        webCryptoSigner(holder.privateKey),
      );
    },
  };
}
