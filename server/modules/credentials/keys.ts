import { type KeyObject, sign } from "node:crypto";

import { type JWK, base64url } from "jose";

import type { DidDocument } from "../../../shared/credentials/presentation.js";

/**
 * An issuer's signing keys as a did:web document: every configured key is published (so credentials signed
 * by a key that is being retired stay verifiable), the active one signs new credentials and status lists.
 */
export interface IssuerKeys {
  did: string;
  activeKeyId: string;
  /** The DID URL put in each JWS header (`kid`). */
  activeKid: string;
  activeKey: KeyObject;
  document: DidDocument;
  /** Signs `header.payload` (base64url ES256 signature), for the SD-JWT library. */
  sign(data: string): Promise<string>;
}

export function publicJwkOf(key: KeyObject): JWK {
  const { kty, crv, x, y } = key.export({ format: "jwk" }) as JWK;
  return { kty, crv, x, y };
}

export function issuerKeys(did: string, keys: Map<string, KeyObject>, activeKeyId: string): IssuerKeys {
  const methods = [...keys.entries()].map(([keyId, key]) => ({
    id: `${did}#${keyId}`,
    type: "JsonWebKey2020",
    controller: did,
    publicKeyJwk: { ...publicJwkOf(key), alg: "ES256", use: "sig", kid: keyId },
  }));
  const activeKey = keys.get(activeKeyId)!;
  return {
    did,
    activeKeyId,
    activeKid: `${did}#${activeKeyId}`,
    activeKey,
    document: {
      "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
      id: did,
      verificationMethod: methods,
      assertionMethod: methods.map((m) => m.id),
    } as DidDocument,
    // ES256: ECDSA P-256 over SHA-256, signature as r‖s (IEEE P1363), as JWS wants it.
    sign: async (data) =>
      base64url.encode(sign("sha256", Buffer.from(data, "utf8"), { key: activeKey, dsaEncoding: "ieee-p1363" })),
  };
}
