import { SDJwt, SDJwtInstance } from "@sd-jwt/core";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { type JWK, base64url, flattenedVerify, importJWK } from "jose";

/**
 * Verifying and making SD-JWT VC presentations, shared by the server (KYC by credential), the browser
 * (the public verify page, the holder's page) and the CLI verifier. It runs on WebCrypto (`crypto.subtle`)
 * and the format libraries only (@sd-jwt/*, jose), never on Node built-ins, so the browser bundles it as is.
 */

/** The JOSE `typ` of an SD-JWT VC (draft-ietf-oauth-sd-jwt-vc); the older value is still accepted. */
export const SD_JWT_VC_TYP = "dc+sd-jwt";
const ACCEPTED_TYPS = [SD_JWT_VC_TYP, "vc+sd-jwt"];

/** Which check refused a presentation; each has its message in server/errors.ts (`credential.<check>`). */
export type CredentialCheck =
  | "malformed"
  | "untrustedIssuer"
  | "issuerUnavailable"
  | "tampered"
  | "expired"
  | "notBound"
  | "wronglyBound"
  | "wrongAudience"
  | "replayed"
  | "revoked"
  | "statusUnavailable";

export class CredentialCheckFailed extends Error {
  constructor(readonly check: CredentialCheck) {
    super(`credential.${check}`);
    this.name = "CredentialCheckFailed";
  }
}

/** SHA-256 by WebCrypto, the hasher the SD-JWT libraries ask for. */
export async function sha256Hasher(data: string | ArrayBuffer): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data);
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}

const randomSalt = (length: number) => base64url.encode(crypto.getRandomValues(new Uint8Array(length)));

export interface DidDocument {
  id: string;
  verificationMethod?: { id: string; type: string; controller: string; publicKeyJwk: JWK }[];
  assertionMethod?: (string | { id: string })[];
}

/** `did:web` of an origin (and optional path), e.g. http://127.0.0.1:3000 → did:web:127.0.0.1%3A3000. */
export function didWebFor(origin: string, path: string[] = []): string {
  const url = new URL(origin);
  return ["did:web", encodeURIComponent(url.host), ...path.map(encodeURIComponent)].join(":");
}

/**
 * Where a did:web document lives (did:web method spec): https, `/.well-known/did.json` for a bare host,
 * `/<path>/did.json` otherwise. Loopback hosts are read over http (local development and tests only).
 */
export function didWebDocumentUrl(did: string): string {
  const parts = did.split(":");
  if (parts.length < 3 || parts[0] !== "did" || parts[1] !== "web") throw new CredentialCheckFailed("untrustedIssuer");
  const host = decodeURIComponent(parts[2]!);
  const loopback = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host);
  const base = `${loopback ? "http" : "https"}://${host}`;
  const path = parts.slice(3).map(decodeURIComponent);
  return path.length === 0 ? `${base}/.well-known/did.json` : `${base}/${path.join("/")}/did.json`;
}

/** Reads a did:web document over HTTP(S). */
export async function fetchDidDocument(did: string, fetcher: typeof fetch = fetch): Promise<DidDocument> {
  const response = await fetcher(didWebDocumentUrl(did), {
    headers: { accept: "application/did+json, application/json" },
  });
  if (!response.ok) throw new Error(`did document: HTTP ${response.status}`);
  const document = (await response.json()) as DidDocument;
  if (document.id !== did) throw new Error("did document names another DID");
  return document;
}

/** The assertion key `kid` (a DID URL, or a fragment of the issuer's DID) names in `document`. */
export function assertionKey(document: DidDocument, kid: string): JWK | null {
  const id = kid.startsWith("#") ? `${document.id}${kid}` : kid;
  const allowed = (document.assertionMethod ?? []).map((m) => (typeof m === "string" ? m : m.id));
  if (!allowed.includes(id)) return null;
  return document.verificationMethod?.find((m) => m.id === id)?.publicKeyJwk ?? null;
}

/** A JWS verifier over `header.payload` and a signature, for the SD-JWT libraries. */
function joseVerifier(jwk: JWK) {
  return async (data: string, signature: string): Promise<boolean> => {
    const [header, payload] = data.split(".");
    try {
      await flattenedVerify({ protected: header!, payload: payload!, signature }, await importJWK(jwk, "ES256"), {
        algorithms: ["ES256"],
      });
      return true;
    } catch {
      return false;
    }
  };
}

export interface VerifyOptions {
  /** DIDs whose credentials are accepted. */
  trustedIssuers: readonly string[];
  resolveDid(did: string): Promise<DidDocument>;
  /** The Token Status List JWT at a status `uri` (the credential's `status.status_list.uri`). */
  fetchStatusList(uri: string): Promise<string>;
  /** The audience the key binding JWT must name. */
  audience: string;
  /** The nonce the verifier handed out; omitted, the caller judges the returned nonce itself (e.g. spent-once). */
  nonce?: string;
  /** Seconds since the epoch. */
  now: number;
  /** How old a key binding JWT may be (seconds; default 300). */
  maxAgeSeconds?: number;
  /** False skips the status list (a credential with no `status` claim is never looked up anyway). */
  checkStatus?: boolean;
}

export interface VerifiedPresentation {
  issuer: string;
  /** Claims the issuer signed in the clear (no personal data by design). */
  signed: Record<string, unknown>;
  /** The selectively disclosable claims the holder chose to show, and nothing else. */
  disclosed: Record<string, unknown>;
  expiresAt: number;
  keyBinding: { aud: string; nonce: string; iat: number };
}

/** Everything the payload carries in the clear, minus the SD-JWT plumbing. */
function signedClaims(payload: Record<string, unknown>): Record<string, unknown> {
  const { _sd: _digests, _sd_alg: _alg, ...rest } = payload;
  return rest;
}

/** Every digest the issuer signed (`_sd` arrays at any depth). */
function signedDigests(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) signedDigests(item, into);
  else if (typeof value === "object" && value !== null) {
    for (const [key, inner] of Object.entries(value)) {
      if (key === "_sd" && Array.isArray(inner)) for (const d of inner) into.add(String(d));
      else signedDigests(inner, into);
    }
  }
  return into;
}

async function decode(presentation: string) {
  try {
    if (!presentation.includes("~")) throw new Error("not an SD-JWT");
    const sdjwt = await SDJwt.fromEncode(presentation.trim(), sha256Hasher);
    const header = sdjwt.jwt?.header ?? {};
    const payload = sdjwt.jwt?.payload as Record<string, unknown> | undefined;
    if (payload === undefined || !ACCEPTED_TYPS.includes(String(header.typ))) throw new Error("not an SD-JWT VC");
    if (typeof payload.iss !== "string" || typeof payload.vct !== "string") throw new Error("iss or vct missing");
    return { sdjwt, header, payload };
  } catch {
    throw new CredentialCheckFailed("malformed");
  }
}

/**
 * Checks a presentation (SD-JWT VC + disclosures + key binding JWT) in a fixed order, refusing at the first
 * failed check: form, trusted issuer, issuer key and signature, disclosures, validity period, holder binding,
 * audience, nonce and freshness, then status.
 */
export async function verifyPresentation(presentation: string, options: VerifyOptions): Promise<VerifiedPresentation> {
  const { sdjwt, header, payload } = await decode(presentation);
  const issuer = payload.iss as string;
  if (!options.trustedIssuers.includes(issuer)) throw new CredentialCheckFailed("untrustedIssuer");
  let document: DidDocument;
  try {
    document = await options.resolveDid(issuer);
  } catch {
    throw new CredentialCheckFailed("issuerUnavailable");
  }
  const issuerKey = typeof header.kid === "string" ? assertionKey(document, header.kid) : null;
  if (issuerKey === null || header.alg !== "ES256") throw new CredentialCheckFailed("tampered");
  const verifier = joseVerifier(issuerKey);
  const [issuerJwt] = presentation.trim().split("~");
  const [h, p, s] = issuerJwt!.split(".");
  if (!(await verifier(`${h}.${p}`, s ?? ""))) throw new CredentialCheckFailed("tampered");
  const digests = signedDigests(payload);
  if ((sdjwt.disclosures ?? []).some((d) => d._digest === undefined || !digests.has(d._digest)))
    throw new CredentialCheckFailed("tampered");

  const skew = 60;
  if (typeof payload.exp !== "number" || payload.exp + skew < options.now) throw new CredentialCheckFailed("expired");
  if (typeof payload.nbf === "number" && payload.nbf - skew > options.now) throw new CredentialCheckFailed("expired");

  const kb = sdjwt.kbJwt;
  const cnf = (payload.cnf as { jwk?: JWK } | undefined)?.jwk;
  if (kb?.payload === undefined || cnf === undefined) throw new CredentialCheckFailed("notBound");
  const kbNonce = String(kb.payload.nonce ?? "");
  // The format library checks the signature again, the disclosures against their digests and the key binding
  // (its signature by `cnf.jwk` and its sd_hash over exactly what is presented).
  const instance = new SDJwtInstance({
    hasher: sha256Hasher,
    verifier,
    kbVerifier: (data, signature) => joseVerifier(cnf)(data, signature),
  });
  let verified: Awaited<ReturnType<SDJwtInstance<Record<string, unknown>>["verify"]>>;
  try {
    verified = await instance.verify(presentation.trim(), {
      keyBindingNonce: kbNonce,
      currentDate: options.now,
      skewSeconds: skew,
    });
  } catch {
    throw new CredentialCheckFailed("wronglyBound");
  }
  if (kb.header?.alg !== "ES256") throw new CredentialCheckFailed("wronglyBound");
  const keyBinding = { aud: String(kb.payload.aud), nonce: kbNonce, iat: Number(kb.payload.iat) };
  if (keyBinding.aud !== options.audience) throw new CredentialCheckFailed("wrongAudience");
  if (options.nonce !== undefined && keyBinding.nonce !== options.nonce) throw new CredentialCheckFailed("replayed");
  const maxAge = options.maxAgeSeconds ?? 300;
  if (!(keyBinding.iat > options.now - maxAge && keyBinding.iat < options.now + skew))
    throw new CredentialCheckFailed("replayed");

  const disclosed: Record<string, unknown> = {};
  const unpacked = verified.payload as Record<string, unknown>;
  for (const disclosure of sdjwt.disclosures ?? []) {
    if (disclosure.key !== undefined) disclosed[disclosure.key] = unpacked[disclosure.key];
  }
  if (options.checkStatus !== false) await checkStatus(payload, options, issuerKey);
  return { issuer, signed: signedClaims(payload), disclosed, expiresAt: payload.exp, keyBinding };
}

/** The credential's bit in its status list, read from the issuer's signed Token Status List JWT. */
export async function checkStatus(payload: Record<string, unknown>, options: VerifyOptions, issuerJwk: JWK) {
  const reference = (payload.status as { status_list?: { idx: number; uri: string } } | undefined)?.status_list;
  if (reference === undefined) return;
  let bit: number;
  try {
    const listJwt = await options.fetchStatusList(reference.uri);
    const [h, p, s] = listJwt.split(".");
    if (!(await joseVerifier(issuerJwk)(`${h}.${p}`, s ?? ""))) throw new Error("status list signature");
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(p!))) as { sub?: string; exp?: number };
    if (claims.sub !== reference.uri || (claims.exp !== undefined && claims.exp < options.now))
      throw new Error("status list for another uri, or stale");
    bit = getListFromStatusListJWT(listJwt).getStatus(reference.idx);
  } catch {
    throw new CredentialCheckFailed("statusUnavailable");
  }
  if (bit !== 0) throw new CredentialCheckFailed("revoked");
}

/** Signs with a WebCrypto ECDSA P-256 key: the raw r‖s signature is exactly JWS ES256's. */
export function webCryptoSigner(privateKey: Parameters<typeof crypto.subtle.sign>[1]) {
  return async (data: string): Promise<string> => {
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      privateKey,
      new TextEncoder().encode(data),
    );
    return base64url.encode(new Uint8Array(signature));
  };
}

/**
 * The holder's presentation: the credential with only the chosen selectively disclosable claims, and a key
 * binding JWT (audience, nonce, time, sd_hash) signed with the holder key.
 */
export async function createPresentation(
  credential: string,
  disclose: readonly string[],
  binding: { aud: string; nonce: string; iat: number },
  sign: (data: string) => Promise<string>,
): Promise<string> {
  const instance = new SDJwtVcInstance({ hasher: sha256Hasher, kbSigner: sign, kbSignAlg: "ES256" });
  const frame = Object.fromEntries(disclose.map((key) => [key, true]));
  return instance.present(credential, frame, { kb: { payload: binding } });
}

/** Issues an SD-JWT VC with the given signer (a format helper shared by the platform and the stand-in issuer). */
export async function issueSdJwtVc(
  claims: Record<string, unknown> & { iss: string; vct: string },
  selectivelyDisclosable: readonly string[],
  signer: { kid: string; sign: (data: string) => Promise<string> },
): Promise<string> {
  const instance = new SDJwtVcInstance({
    hasher: sha256Hasher,
    hashAlg: "sha-256",
    saltGenerator: randomSalt,
    signer: signer.sign,
    signAlg: "ES256",
  });
  return instance.issue(claims, { _sd: [...selectivelyDisclosable] } as never, { header: { kid: signer.kid } });
}
