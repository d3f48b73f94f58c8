import { createServer } from "node:http";
import { Writable } from "node:stream";

import { sql } from "drizzle-orm";
import type { FastifyInstance } from "fastify";
import { type JWK, SignJWT, base64url, decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { errorCatalog } from "../../server/errors.js";
import { buildHttpApp } from "../../server/http/app.js";
import {
  CredentialCheckFailed,
  type VerifyOptions,
  createPresentation,
  didWebFor,
  verifyPresentation,
  webCryptoSigner,
} from "../../shared/credentials/presentation.js";
import { createStandInIssuer } from "../../server/modules/credentials/stand-in-issuer.js";
import {
  type TestPlatform,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  freePort,
  login,
  makeIdNumber,
  stepUp,
} from "./helpers.js";

/**
 * Real-name credentials: the platform issues SD-JWT VCs bound to a holder key, publishes its did:web document
 * and Token Status Lists, and accepts trusted issuers' credentials for verification instead of an ID number.
 * Every refusal names the check that failed.
 */
const NAME = "赵凭证";
let sequence = 700;
const idNumbers: string[] = [];
const phones: string[] = [];
const seconds = (date: Date) => Math.floor(date.getTime() / 1000);

async function holderKey() {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
  const { kty, crv, x, y } = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JWK;
  return { privateKey: pair.privateKey, jwk: { kty, crv, x, y } as JWK, sign: webCryptoSigner(pair.privateKey) };
}

describe.each(databasesUnderTest())("credentials ($name)", (database) => {
  let test: TestPlatform;
  let app: FastifyInstance;
  const logs: string[] = [];
  let standInServer: ReturnType<typeof createServer>;
  let externalDid = "";

  beforeAll(async () => {
    // An external trusted issuer on its own origin, resolved over HTTP like any did:web.
    const port = await freePort();
    externalDid = didWebFor(`http://127.0.0.1:${port}`);
    const external = createStandInIssuer(externalDid, () => test.clock.now());
    standInServer = createServer((request, response) => {
      if (request.url === "/.well-known/did.json") {
        response.writeHead(200, { "content-type": "application/did+json" });
        response.end(JSON.stringify(external.keys.document));
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => standInServer.listen(port, "127.0.0.1", resolve));
    (globalThis as Record<string, unknown>).externalIssuer = external;
    test = await createTestPlatform(database, {
      env: { TRUSTED_CREDENTIAL_ISSUERS: externalDid, PUBLIC_ORIGIN: "https://shuzang.example" },
    });
    const stream = new Writable({
      write(chunk, _encoding, callback) {
        logs.push(String(chunk));
        callback();
      },
    });
    app = await buildHttpApp(test.platform, { logger: { level: "trace", stream } });
  });
  afterAll(async () => {
    await app?.close();
    await test?.close();
    await new Promise((resolve) => standInServer?.close(resolve));
  });

  /** The verifier's view: the platform's did.json and status lists read over HTTP. */
  function verifierOptions(overrides: Partial<VerifyOptions> = {}): VerifyOptions {
    return {
      trustedIssuers: [test.platform.credentials.did],
      resolveDid: async () => (await app.inject("/.well-known/did.json")).json(),
      fetchStatusList: async (uri) => (await app.inject(new URL(uri).pathname)).body,
      audience: "https://verifier.example",
      nonce: "n-1",
      now: seconds(test.clock.now()),
      ...overrides,
    };
  }

  async function issued() {
    const person = await login(test);
    phones.push(person.phone);
    const idNumber = makeIdNumber("19880808", "110101", String(sequence++));
    idNumbers.push(idNumber);
    await stepUp(test, person.caller, "kyc");
    await person.caller.kyc.submit({ name: NAME, idNumber });
    const holder = await holderKey();
    const { nonce, audience } = await person.caller.credentials.challenge({ purpose: "issue" });
    const proof = await new SignJWT({ nonce })
      .setProtectedHeader({ alg: "ES256", typ: "openid4vci-proof+jwt", jwk: holder.jwk })
      .setAudience(audience)
      .setIssuedAt(seconds(test.clock.now()))
      .sign(holder.privateKey);
    const { credential } = await person.caller.credentials.issue({ proof });
    return { person, holder, credential, proof };
  }

  const present = (credential: string, sign: (d: string) => Promise<string>, disclose = ["holder_status"]) =>
    createPresentation(
      credential,
      disclose,
      { aud: "https://verifier.example", nonce: "n-1", iat: seconds(test.clock.now()) },
      sign,
    );

  async function refusedWith(presentation: string, check: string, overrides: Partial<VerifyOptions> = {}) {
    const error = await verifyPresentation(presentation, verifierOptions(overrides)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialCheckFailed);
    expect((error as CredentialCheckFailed).check).toBe(check);
    const entry = errorCatalog[`credential.${check}` as keyof typeof errorCatalog];
    expect(entry.zh.length).toBeGreaterThan(0);
    expect(entry.en.length).toBeGreaterThan(0);
  }

  it("publishes did:web, issues an SD-JWT VC with no personal data, and verifies only the chosen claims", async () => {
    const did = await app.inject("/.well-known/did.json");
    expect(did.statusCode).toBe(200);
    expect(did.json().id).toBe("did:web:shuzang.example");
    expect(did.json().assertionMethod).toHaveLength(1);

    const { credential, holder } = await issued();
    const [jwt] = credential.split("~");
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(jwt!.split(".")[0]!)));
    expect(header.typ).toBe("dc+sd-jwt");
    const payload = decodeJwt(jwt!);
    expect(payload.iss).toBe("did:web:shuzang.example");
    expect(payload.age_over_18).toBe(true);
    expect(payload.verification_level).toBe(1);
    expect(payload.sub).toMatch(/^did:pkh:eip155:31337:0x[0-9a-fA-F]{40}$/);
    expect(payload).not.toHaveProperty("identity_commitment");
    expect((payload.cnf as { jwk: JWK }).jwk).toEqual(holder.jwk);

    const presentation = await present(credential, holder.sign);
    const result = await verifyPresentation(presentation, verifierOptions());
    expect(Object.keys(result.disclosed)).toEqual(["holder_status"]);
    expect(result.signed).not.toHaveProperty("identity_commitment");

    const both = await present(credential, holder.sign, ["holder_status", "identity_commitment"]);
    const all = await verifyPresentation(both, verifierOptions());
    expect(all.disclosed.identity_commitment).toMatch(/^0x[0-9a-f]{64}$/);
  });

  it("refuses tampered, expired, unbound, wrongly bound, misdirected, replayed and untrusted presentations", async () => {
    const { credential, holder } = await issued();
    const good = await present(credential, holder.sign);
    const [jwt, ...rest] = good.split("~");
    const [h, , s] = jwt!.split(".");
    const forgedPayload = base64url.encode(JSON.stringify({ ...decodeJwt(jwt!), verification_level: 9 }));
    await refusedWith([`${h}.${forgedPayload}.${s}`, ...rest].join("~"), "tampered");
    await refusedWith("not a credential", "malformed");

    const tamperedDisclosure = base64url.encode(JSON.stringify(["salt", "holder_status", "frozen"]));
    await refusedWith([jwt, tamperedDisclosure, rest.at(-1)].join("~"), "tampered");

    const later = seconds(test.clock.now()) + 40 * 86_400;
    await refusedWith(good, "expired", { now: later });

    const unbound = good.slice(0, good.lastIndexOf("~") + 1);
    await refusedWith(unbound, "notBound");

    const thief = await holderKey();
    await refusedWith(await present(credential, thief.sign), "wronglyBound");
    await refusedWith(good, "wrongAudience", { audience: "https://other.example" });
    await refusedWith(good, "replayed", { nonce: "another-challenge" });
    await refusedWith(good, "replayed", { now: seconds(test.clock.now()) + 600 });
    await refusedWith(good, "untrustedIssuer", { trustedIssuers: ["did:web:someone.example"] });
  });

  it("flips the status bit at once on revocation, erasure and lost verification", async () => {
    const first = await issued();
    const presentation = await present(first.credential, first.holder.sign);
    await verifyPresentation(presentation, verifierOptions());
    const status = await app.inject("/credentials/status/1");
    expect(status.headers["content-type"]).toContain("application/statuslist+jwt");

    const revoked = await test.platform.credentials.revokeForAccount(test.platform.db, first.person.user.id, "test");
    expect(revoked).toBe(1);
    await refusedWith(presentation, "revoked");

    const second = await issued();
    const p2 = await present(second.credential, second.holder.sign);
    await verifyPresentation(p2, verifierOptions());
    await second.person.caller.privacy.requestErasure();
    await refusedWith(p2, "revoked");

    // A verification that no longer holds (here: expired early) reads as revoked, with nothing written.
    const third = await issued();
    const p3 = await present(third.credential, third.holder.sign);
    await verifyPresentation(p3, verifierOptions());
    await test.platform.db.execute(
      sql`update kyc_identities set expires_at = ${new Date(test.clock.now().getTime() - 1000).toISOString()}::timestamptz where user_id = ${third.person.user.id}`,
    );
    await refusedWith(p3, "revoked");
  });

  it("refuses a holder proof replayed or made for someone else's challenge", async () => {
    const { person, proof } = await issued();
    await expectAppError(person.caller.credentials.issue({ proof }), "credential.replayed");
    await expectAppError(
      person.caller.credentials.issue({ proof: "a.b.c-not-a-proof-jwt" }),
      "credential.proofInvalid",
    );
    const unverified = await login(test);
    await expectAppError(unverified.caller.credentials.issue({ proof }), "kyc.notVerified");
  });

  it("verifies a new collector by a trusted issuer's credential: no ID number, one identity per account", async () => {
    const standIn = test.platform.credentials.standIn!;
    const newcomer = await login(test);
    const { nonce, audience } = await newcomer.caller.credentials.challenge({ purpose: "present" });
    const presentation = await standIn.present({ aud: audience, nonce }, { sub: "subject-0001", adult: true });
    const status = await newcomer.caller.credentials.verifyIdentity({ presentation });
    expect(status.state).toBe("verified");
    expect(status.nameMasked).toBe("");
    expect(status.address).toMatch(/^0x/);
    await stepUp(test, newcomer.caller, "export");
    expect(await newcomer.caller.privacy.exportMyData().then((d) => d.identity)).toBeNull();

    // The same presentation again: its challenge is spent.
    await expectAppError(newcomer.caller.credentials.verifyIdentity({ presentation }), "credential.replayed");

    // The same person on a second account: one identity, one account.
    const second = await login(test);
    const c2 = await second.caller.credentials.challenge({ purpose: "present" });
    const again = await standIn.present({ aud: c2.audience, nonce: c2.nonce }, { sub: "subject-0001", adult: true });
    await expectAppError(second.caller.credentials.verifyIdentity({ presentation: again }), "kyc.identityInUse");

    const c3 = await second.caller.credentials.challenge({ purpose: "present" });
    const minor = await standIn.present({ aud: c3.audience, nonce: c3.nonce }, { sub: "subject-0002", adult: false });
    await expectAppError(second.caller.credentials.verifyIdentity({ presentation: minor }), "kyc.underage");

    // A presentation made for another verifier, or never challenged by us.
    const c4 = await second.caller.credentials.challenge({ purpose: "present" });
    const elsewhere = await standIn.present(
      { aud: "did:web:other.example", nonce: c4.nonce },
      { sub: "s-3", adult: true },
    );
    await expectAppError(
      second.caller.credentials.verifyIdentity({ presentation: elsewhere }),
      "credential.wrongAudience",
    );
    const unasked = await standIn.present({ aud: c4.audience, nonce: "made-up" }, { sub: "s-3", adult: true });
    await expectAppError(second.caller.credentials.verifyIdentity({ presentation: unasked }), "credential.replayed");
  });

  it("reads an external trusted issuer's did.json over HTTP and refuses issuers not on the list", async () => {
    const external = (globalThis as Record<string, unknown>).externalIssuer as ReturnType<typeof createStandInIssuer>;
    const person = await login(test);
    const c1 = await person.caller.credentials.challenge({ purpose: "present" });
    const presentation = await external.present({ aud: c1.audience, nonce: c1.nonce }, { sub: "ext-1", adult: true });
    expect((await person.caller.credentials.verifyIdentity({ presentation })).state).toBe("verified");

    const rogue = createStandInIssuer("did:web:rogue.example", () => test.clock.now());
    const other = await login(test);
    const c2 = await other.caller.credentials.challenge({ purpose: "present" });
    const forged = await rogue.present({ aud: c2.audience, nonce: c2.nonce }, { sub: "ext-2", adult: true });
    await expectAppError(
      other.caller.credentials.verifyIdentity({ presentation: forged }),
      "credential.untrustedIssuer",
    );
  });

  it("keeps personal data out of credentials, status lists and logs", async () => {
    const { credential } = await issued();
    const list = (await app.inject("/credentials/status/1")).body;
    const did = (await app.inject("/.well-known/did.json")).body;
    const decoded = credential
      .split("~")
      .filter((part) => part !== "")
      .map((part) =>
        part
          .split(".")
          .map((segment) => {
            try {
              return new TextDecoder().decode(base64url.decode(segment));
            } catch {
              return "";
            }
          })
          .join(" "),
      )
      .join(" ");
    const haystack = [credential, decoded, list, did, ...logs].join("\n");
    expect(phones.length).toBeGreaterThan(0);
    for (const secret of [NAME, "1101011988", ...idNumbers, ...phones]) expect(haystack).not.toContain(secret);
  });
});

describe("issuer key rotation", () => {
  it("keeps credentials of a retired signing key verifiable while the key is published, and no longer after", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const { issuerKeys } = await import("../../server/modules/credentials/keys.js");
    const { issueSdJwtVc } = await import("../../shared/credentials/presentation.js");
    const did = "did:web:rotating.example";
    const k1 = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const k2 = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const before = issuerKeys(did, new Map([["k1", k1]]), "k1");
    const after = issuerKeys(
      did,
      new Map([
        ["k1", k1],
        ["k2", k2],
      ]),
      "k2",
    );
    const retired = issuerKeys(did, new Map([["k2", k2]]), "k2");
    const holder = await holderKey();
    const now = Math.floor(Date.now() / 1000);
    const credential = await issueSdJwtVc(
      { iss: did, vct: "urn:test", iat: now, exp: now + 3600, cnf: { jwk: holder.jwk }, age_over_18: true },
      [],
      { kid: before.activeKid, sign: before.sign },
    );
    const presentation = await createPresentation(credential, [], { aud: "a", nonce: "n", iat: now }, holder.sign);
    const options = (document: typeof after.document): VerifyOptions => ({
      trustedIssuers: [did],
      resolveDid: async () => document,
      fetchStatusList: async () => "",
      audience: "a",
      nonce: "n",
      now,
    });
    await expect(verifyPresentation(presentation, options(after.document))).resolves.toBeDefined();
    const error = await verifyPresentation(presentation, options(retired.document)).catch((e: unknown) => e);
    expect((error as CredentialCheckFailed).check).toBe("tampered");
  });
});
