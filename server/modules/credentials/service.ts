import { randomBytes, randomInt } from "node:crypto";

import { StatusList, createHeaderAndPayload } from "@sd-jwt/jwt-status-list";
import { and, count, eq, gt, inArray, isNull, max, sql } from "drizzle-orm";
import { EmbeddedJWK, type JWK, SignJWT, calculateJwkThumbprint, jwtVerify } from "jose";

import type { Db } from "../../db/client.js";
import { violatedUniqueConstraint } from "../../db/errors.js";
import { AppError, type ErrorCode } from "../../errors.js";
import { hmacHex } from "../../security/crypto.js";
import { appendAudit } from "../audit/service.js";
import type { KycService, KycStatus } from "../kyc/service.js";
import type { IssuerKeys } from "./keys.js";
import {
  CredentialCheckFailed,
  type DidDocument,
  type VerifiedPresentation,
  fetchDidDocument,
  issueSdJwtVc,
  verifyPresentation,
} from "../../../shared/credentials/presentation.js";
import type { StandInIssuer } from "./stand-in-issuer.js";
import { credentialNonces, credentials } from "./tables.js";

/**
 * The platform as an issuer of real-name credentials (SD-JWT VC, did:web of PUBLIC_ORIGIN) and as a
 * verifier of other issuers' credentials in place of an ID number. No claim value is stored: a credential
 * row is its status-list slot, its owner, its holder key's thumbprint and its dates.
 */
export interface CredentialsDependencies {
  kyc: Pick<KycService, "status" | "commitmentOf" | "verifiedCommitments" | "acceptAttestation">;
  keys: IssuerKeys;
  publicOrigin: string;
  clock: () => Date;
  /** Longest life of a credential; it never outlives the verification behind it. */
  validityDays: number;
  /** How long a verification made from another issuer's credential lasts at most (KYC_VALIDITY_DAYS). */
  kycValidityDays: number;
  /** Whether a verification proves 18+ (KYC_MIN_AGE ≥ 18). */
  adultAtVerification: boolean;
  chainId: number;
  /** HMAC key of identity commitments (the same pepper as the ID-number commitment, another domain). */
  identityPepper: string;
  /** Issuers accepted for verification by credential (never the platform itself). */
  trustedIssuers: readonly string[];
  standIn: StandInIssuer | null;
  fetcher?: typeof fetch;
}

/** Entries per status list; a new list is started when one is half full (indices are drawn at random). */
export const STATUS_LIST_SIZE = 16_384;
const NONCE_TTL_MS = 5 * 60_000;
export const CREDENTIAL_VCT_PATH = "/credentials/vct/real-name";
const SELECTIVELY_DISCLOSABLE = ["identity_commitment", "holder_status"] as const;

export function createCredentialsService(deps: CredentialsDependencies) {
  const did = deps.keys.did;
  const fetcher = deps.fetcher ?? fetch;
  const now = () => deps.clock();
  const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

  /** The platform's own and the stand-in's documents are known here; any other did:web is fetched. */
  async function resolveDid(target: string): Promise<DidDocument> {
    if (target === did) return deps.keys.document;
    if (deps.standIn !== null && target === deps.standIn.did) return deps.standIn.keys.document;
    return fetchDidDocument(target, fetcher);
  }

  async function fetchStatusList(uri: string): Promise<string> {
    const response = await fetcher(uri, { headers: { accept: "application/statuslist+jwt" } });
    if (!response.ok) throw new Error(`status list: HTTP ${response.status}`);
    return response.text();
  }

  return {
    did,
    standIn: deps.standIn,
    didDocument: () => deps.keys.document,
    resolveDid,
    fetchStatusList,
    issue: (db: Db, userId: number, proof: string) => issueCredential(deps, db, userId, proof),
    statusListJwt: (db: Db, listId: number) => statusListJwt(deps, db, listId),

    /** A one-time challenge for the caller: a proof at issuance, or a presentation to the platform. */
    async challenge(db: Db, userId: number, purpose: "issue" | "present") {
      const nonce = randomBytes(18).toString("base64url");
      const expiresAt = new Date(now().getTime() + NONCE_TTL_MS);
      await db.insert(credentialNonces).values({ nonce, userId, purpose, expiresAt });
      return { nonce, audience: did, expiresAt };
    },

    /** The caller's credentials (dates and state only). */
    async mine(db: Db, userId: number) {
      return db
        .select({
          id: credentials.id,
          issuedAt: credentials.issuedAt,
          expiresAt: credentials.expiresAt,
          revokedAt: credentials.revokedAt,
        })
        .from(credentials)
        .where(eq(credentials.userId, userId))
        .orderBy(sql`${credentials.id} desc`)
        .limit(20);
    },

    /** Revokes every live credential of an account at once (its status bit is set from now on). */
    async revokeForAccount(db: Db, userId: number, reason: string): Promise<number> {
      const revoked = await db
        .update(credentials)
        .set({ revokedAt: now(), revokeReason: reason })
        .where(and(eq(credentials.userId, userId), isNull(credentials.revokedAt)))
        .returning({ id: credentials.id });
      return revoked.length;
    },

    /** Revokes the caller's credentials with the given ids (their own only). */
    async revokeMine(db: Db, userId: number, ids: number[]) {
      await db
        .update(credentials)
        .set({ revokedAt: now(), revokeReason: "holder" })
        .where(and(eq(credentials.userId, userId), inArray(credentials.id, ids), isNull(credentials.revokedAt)));
    },

    /**
     * Real-name verification by a trusted issuer's credential instead of an ID number: only `age_over_18`
     * and a stable pseudonymous `sub` are asked for; the identity commitment is HMAC(pepper, issuer + sub).
     */
    async verifyIdentity(db: Db, userId: number, presentation: string): Promise<KycStatus> {
      let result: VerifiedPresentation;
      try {
        result = await verifyPresentation(presentation, {
          trustedIssuers: deps.trustedIssuers,
          resolveDid,
          fetchStatusList,
          audience: did,
          now: seconds(now()),
        });
      } catch (error) {
        if (error instanceof CredentialCheckFailed) throw new AppError(`credential.${error.check}` as ErrorCode);
        throw error;
      }
      await spendNonce(deps, db, userId, result.keyBinding.nonce, "present");
      const adult = result.disclosed.age_over_18 ?? result.signed.age_over_18;
      const subject = result.disclosed.sub ?? result.signed.sub;
      if (typeof adult !== "boolean" || typeof subject !== "string" || subject === "")
        throw new AppError("credential.claimsMissing");
      if (!adult) throw new AppError("kyc.underage", { minAge: 18 });
      const level = Number(result.signed.verification_level ?? 1);
      const limit = now().getTime() + deps.kycValidityDays * 86_400_000;
      return deps.kyc.acceptAttestation(db, userId, {
        commitment: `0x${hmacHex(deps.identityPepper, `credential-subject:${result.issuer}:${subject}`)}`,
        issuer: result.issuer,
        level: Number.isInteger(level) && level >= 1 && level <= 255 ? level : 1,
        expiresAt: new Date(Math.min(limit, result.expiresAt * 1000)),
      });
    },
  };
}

/** A free slot: the newest list until it is half full, at a random index. */
/** Spends a challenge once: only its owner, for its purpose, before it expires. */
export async function spendNonce(
  deps: CredentialsDependencies,
  db: Db,
  userId: number,
  nonce: string,
  purpose: "issue" | "present",
) {
  const spent = await db
    .update(credentialNonces)
    .set({ usedAt: deps.clock() })
    .where(
      and(
        eq(credentialNonces.nonce, nonce),
        eq(credentialNonces.userId, userId),
        eq(credentialNonces.purpose, purpose),
        isNull(credentialNonces.usedAt),
        gt(credentialNonces.expiresAt, deps.clock()),
      ),
    )
    .returning({ nonce: credentialNonces.nonce });
  if (spent.length === 0) throw new AppError("credential.replayed");
}

/** The holder's proof of possession (OpenID4VCI-style proof JWT): its key, over our nonce and DID. */
async function holderKeyFrom(deps: CredentialsDependencies, db: Db, userId: number, proof: string): Promise<JWK> {
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, {
      audience: deps.keys.did,
      typ: "openid4vci-proof+jwt",
      algorithms: ["ES256"],
      currentDate: deps.clock(),
      maxTokenAge: "5m",
    });
  } catch {
    throw new AppError("credential.proofInvalid");
  }
  const jwk = verified.protectedHeader.jwk!;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || "d" in jwk || typeof verified.payload.nonce !== "string")
    throw new AppError("credential.proofInvalid");
  await spendNonce(deps, db, userId, verified.payload.nonce, "issue");
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x!, y: jwk.y! };
}

/** A credential for a verified collector, bound to the key their proof names. */
async function issueCredential(deps: CredentialsDependencies, db: Db, userId: number, proof: string) {
  const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
  const holderJwk = await holderKeyFrom(deps, db, userId, proof);
  const [status, commitment] = await Promise.all([deps.kyc.status(db, userId), deps.kyc.commitmentOf(db, userId)]);
  if (status.state !== "verified" || status.address === undefined || commitment === null)
    throw new AppError("kyc.notVerified");
  const issuedAt = deps.clock();
  const limit = issuedAt.getTime() + deps.validityDays * 86_400_000;
  const expiresAt = new Date(Math.min(limit, status.expiresAt!.getTime()));
  const slot = await allocateSlot(db, {
    userId,
    holderThumbprint: await calculateJwkThumbprint(holderJwk),
    keyId: deps.keys.activeKeyId,
    issuedAt,
    expiresAt,
  });
  const credential = await issueSdJwtVc(
    {
      iss: deps.keys.did,
      vct: `${deps.publicOrigin}${CREDENTIAL_VCT_PATH}`,
      iat: seconds(issuedAt),
      exp: seconds(expiresAt),
      sub: `did:pkh:eip155:${deps.chainId}:${status.address}`,
      cnf: { jwk: holderJwk },
      status: { status_list: { idx: slot.idx, uri: `${deps.publicOrigin}/credentials/status/${slot.listId}` } },
      verification_level: status.level ?? 1,
      age_over_18: deps.adultAtVerification,
      identity_commitment: commitment,
      holder_status: status.onChain === true ? "bound_on_chain" : "binding_pending",
    },
    SELECTIVELY_DISCLOSABLE,
    { kid: deps.keys.activeKid, sign: deps.keys.sign },
  );
  await appendAudit(
    db,
    {
      actor: { userId, role: "collector" },
      action: "credential.issued",
      subject: { type: "user", id: userId },
      details: { listId: slot.listId, keyId: deps.keys.activeKeyId, expiresAt: expiresAt.toISOString() },
    },
    issuedAt,
  );
  return { credential, expiresAt };
}

async function allocateSlot(db: Db, row: Omit<typeof credentials.$inferInsert, "listId" | "idx">) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const [latest] = await db.select({ listId: max(credentials.listId) }).from(credentials);
    let listId = latest?.listId ?? 1;
    const [used] = await db.select({ n: count() }).from(credentials).where(eq(credentials.listId, listId));
    if ((used?.n ?? 0) >= STATUS_LIST_SIZE / 2) listId++;
    const idx = randomInt(STATUS_LIST_SIZE);
    try {
      await db.insert(credentials).values({ ...row, listId, idx });
      return { listId, idx };
    } catch (error) {
      if (violatedUniqueConstraint(error) !== "credentials_list_idx_key") throw error;
    }
  }
  throw new Error("no free status list slot");
}

/** The Token Status List JWT of one list: a bit per slot, set when revoked or the owner is not verified now. */
async function statusListJwt(deps: CredentialsDependencies, db: Db, listId: number): Promise<string> {
  const rows = await db
    .select({ idx: credentials.idx, userId: credentials.userId, revokedAt: credentials.revokedAt })
    .from(credentials)
    .where(eq(credentials.listId, listId));
  const verified = await deps.kyc.verifiedCommitments(db, [...new Set(rows.map((r) => r.userId))]);
  const list = new StatusList(new Array<number>(STATUS_LIST_SIZE).fill(0), 1);
  for (const row of rows) {
    if (row.revokedAt !== null || !verified.has(row.userId)) list.setStatus(row.idx, 1);
  }
  const iat = Math.floor(deps.clock().getTime() / 1000);
  const { header, payload } = createHeaderAndPayload(
    list,
    { iss: deps.keys.did, sub: `${deps.publicOrigin}/credentials/status/${listId}`, iat, exp: iat + 300, ttl: 60 },
    { alg: "ES256", typ: "statuslist+jwt", kid: deps.keys.activeKid },
  );
  return new SignJWT(payload).setProtectedHeader(header).sign(deps.keys.activeKey);
}

export type CredentialsService = ReturnType<typeof createCredentialsService>;
