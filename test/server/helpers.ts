import { createHash, randomBytes } from "node:crypto";
import { type AddressInfo, createServer } from "node:net";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

import { TRPCError } from "@trpc/server";
import { Mnemonic } from "ethers";
import { Redis } from "ioredis";
import pg from "pg";
import { expect } from "vitest";
import { ZodError } from "zod";

import { type Config, loadConfig } from "../../server/config.js";
import { type Database, openDatabase } from "../../server/db/client.js";
import { encodePng } from "../../server/demo/art.js";
import { checkCharacter } from "../../server/modules/kyc/id-number.js";
import { type Platform, type PlatformOverrides, createPlatform } from "../../server/platform.js";
import type { StepUpPurpose } from "../../server/modules/identity/service.js";
import { createConsoleSmsProvider } from "../../server/providers/sms/console.js";
import type { Context, CookieJar } from "../../server/trpc/init.js";
import { appRouter } from "../../server/trpc/router.js";
import { createCallerFactory } from "../../server/trpc/init.js";

/** Test secrets: fixed per run, never real. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: "test",
    DATA_DIR: mkdtempSync(path.join(tmpdir(), "shuzang-server-")),
    PII_KEYS: `t1:${randomBytes(32).toString("base64")}`,
    PII_ACTIVE_KEY_ID: "t1",
    IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    LOOKUP_PEPPER: randomBytes(32).toString("hex"),
    WALLET_MNEMONIC: Mnemonic.fromEntropy(randomBytes(16)).phrase,
    CHAIN_ENABLED: "false",
    // The rate limiter runs on real time: a one-second resend interval keeps tests fast.
    OTP_RESEND_SECONDS: "1",
    // Every test collector asks for two codes (login and the KYC step-up) from one address: the per-address
    // hourly limit (30 in production) is tested on its own in rate-limits.test.ts and load.test.ts.
    OTP_HOURLY_LIMIT_PER_IP: "1000",
    ...env,
  });
}

export interface DatabaseUnderTest {
  name: "pglite" | "postgres";
  open(): Promise<Database>;
}

/** PGlite always; PostgreSQL too when DATABASE_URL is set (a fresh database per call, dropped at close). */
export function databasesUnderTest(): DatabaseUnderTest[] {
  const list: DatabaseUnderTest[] = [{ name: "pglite", open: () => openDatabase({ pgliteDataDir: "memory://" }) }];
  const adminUrl = process.env.DATABASE_URL;
  if (adminUrl !== undefined && adminUrl !== "") {
    list.push({ name: "postgres", open: () => freshPostgresDatabase(adminUrl, "shuzang_test") });
  }
  return list;
}

/** A new PostgreSQL database next to `adminUrl`'s with nothing in it (not even migrations), and how to drop it. */
export async function emptyPostgresDatabase(adminUrl: string, prefix: string) {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/** A new, empty PostgreSQL database next to `adminUrl`'s, migrated; closing it drops it. */
export async function freshPostgresDatabase(
  adminUrl: string,
  prefix: string,
  poolSize = 5,
  template?: string,
): Promise<Database & { url: string }> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}${template === undefined ? "" : ` template ${template}`}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolSize });
  return {
    ...database,
    url: url.toString(),
    async close() {
      await database.close();
      const dropper = new pg.Client({ connectionString: adminUrl });
      await dropper.connect();
      await dropper.query(`drop database if exists ${name} with (force)`);
      await dropper.end();
    },
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = new Date("2026-11-24T02:00:00.000Z")) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
    set(date: Date) {
      now = date.getTime();
    },
  };
}

export interface TestPlatform {
  platform: Platform;
  clock: ReturnType<typeof manualClock>;
  /** The last code (login or step-up) sent to each phone number. */
  codes: Map<string, string>;
  /** The last code sent to anyone. */
  lastCode(): string;
  close(): Promise<void>;
}

export async function createTestPlatform(
  database: DatabaseUnderTest,
  options: { env?: Record<string, string>; overrides?: PlatformOverrides } = {},
): Promise<TestPlatform> {
  const clock = manualClock();
  const codes = new Map<string, string>();
  let last = "";
  const platform = await createPlatform(testConfig(options.env), {
    database: await database.open(),
    clock: clock.now,
    sms: createConsoleSmsProvider({
      onSend: (phone, code) => {
        codes.set(phone, code);
        last = code;
      },
    }),
    chain: null,
    ...options.overrides,
  });
  return {
    platform,
    clock,
    codes,
    lastCode: () => last,
    close: async () => {
      platform.sandboxPayments?.close();
      await platform.scheduler.stop();
      await platform.registrySync?.stop();
      await platform.mintWorker?.stop();
      await platform.gate.close();
      await platform.database.close();
    },
  };
}

export interface RecordingJar extends CookieJar {
  session: string | null;
}

export function recordingJar(): RecordingJar {
  const jar: RecordingJar = {
    session: null,
    setSession(token) {
      jar.session = token;
    },
    clearSession() {
      jar.session = null;
    },
  };
  return jar;
}

const createCaller = createCallerFactory(appRouter);

/** A caller as a browser would be: with or without a session, with a valid CSRF token unless told otherwise. */
export async function callerFor(
  platform: Platform,
  options: { token?: string | null; ip?: string; csrfValid?: boolean } = {},
) {
  const jar = recordingJar();
  const session =
    options.token === undefined || options.token === null
      ? null
      : await platform.identity.resolveSession(platform.db, options.token);
  const context: Context = {
    platform,
    session,
    ip: options.ip ?? "127.0.0.1",
    userAgent: "vitest",
    csrfValid: options.csrfValid ?? true,
    cookies: jar,
  };
  return { caller: createCaller(context), jar, context };
}

export type TestCaller = Awaited<ReturnType<typeof callerFor>>["caller"];

/**
 * Confirms a step-up for `purpose` in `caller`'s session with the code the SMS carried, as a person would
 * (waiting out the one-second resend interval when the same purpose was asked for just before).
 */
export async function stepUp(test: Pick<TestPlatform, "lastCode">, caller: TestCaller, purpose: StepUpPurpose) {
  for (;;) {
    try {
      await caller.auth.requestStepUp({ purpose });
      break;
    } catch (error) {
      if (!(error instanceof TRPCError) || error.message !== "auth.rateLimited") throw error;
      await waitForResend();
    }
  }
  return caller.auth.confirmStepUp({ purpose, code: test.lastCode() });
}

/** Waits out the one-second resend interval of the test configuration. */
export const waitForResend = () => new Promise((resolve) => setTimeout(resolve, 1100));

let phoneCounter = 0;
/** A fresh mainland mobile number for each call. */
export function newPhone(): string {
  phoneCounter++;
  return `139${String(Date.now() % 1_000_000).padStart(6, "0")}${String(phoneCounter % 100).padStart(2, "0")}`;
}

/** Logs `phone` in through the real procedures; returns the session token and a caller bound to it. */
export async function login(test: TestPlatform, phone = newPhone(), ip = "127.0.0.1") {
  const anonymous = await callerFor(test.platform, { ip });
  await anonymous.caller.auth.requestCode({ phone });
  const code = test.codes.get(phone)!;
  const user = await anonymous.caller.auth.login({ phone, code });
  const token = anonymous.jar.session!;
  const { caller } = await callerFor(test.platform, { token, ip });
  return { phone, token, user, caller };
}

/** A new person made an operator, with a caller whose session carries the new role. */
export async function loggedInOperator(test: TestPlatform) {
  const person = await login(test);
  await promote(test.platform, person.user.id, "operator");
  return { ...person, caller: (await callerFor(test.platform, { token: person.token })).caller };
}

/** A valid 18-character ID number with the given region, birth date (YYYYMMDD) and sequence. */
export function makeIdNumber(birthDate: string, region = "110101", sequence = "123"): string {
  const first17 = `${region}${birthDate}${sequence}`;
  return `${first17}${checkCharacter(first17)}`;
}

/** Gives `user` the operator or issuer role directly (role management UIs come later). */
export async function promote(
  platform: Platform,
  userId: number,
  role: "operator" | "issuer_staff",
  issuerId?: number,
) {
  const { users, issuers } = await import("../../server/db/schema.js");
  const { eq } = await import("drizzle-orm");
  let issuer = issuerId ?? null;
  if (role === "issuer_staff" && issuer === null) {
    const [created] = await platform.db
      .insert(issuers)
      .values({ name: "测试博物馆", status: "approved", creditCode: `TEST${randomBytes(7).toString("hex")}` })
      .returning();
    issuer = created!.id;
  }
  await platform.db
    .update(users)
    .set({ role, issuerId: role === "issuer_staff" ? issuer : null })
    .where(eq(users.id, userId));
  return issuer;
}

/** Asserts a catalogued refusal (and its tRPC code). */
export async function expectAppError(action: Promise<unknown>, appCode: string, trpcCode?: string) {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${appCode}`).toBeInstanceOf(TRPCError);
  expect((error as TRPCError).message).toBe(appCode);
  if (trpcCode !== undefined) expect((error as TRPCError).code).toBe(trpcCode);
  return error as TRPCError;
}

/** Asserts a validation refusal carrying the catalogued issue message. */
export async function expectInputError(action: Promise<unknown>, issueMessage: string) {
  const error = await action.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  expect((error as TRPCError).code).toBe("BAD_REQUEST");
  expect((error as TRPCError).cause).toBeInstanceOf(ZodError);
  expect(((error as TRPCError).cause as ZodError).issues.map((i) => i.message)).toContain(issueMessage);
}

/** A real 8×8 PNG whose pixels come from `salt`: a new file (and sha256) per salt, decodable like any artwork. */
export function pngBytes(salt = randomBytes(8).toString("hex")): Buffer {
  const seed = createHash("sha256").update(salt).digest();
  return encodePng(8, (x, y) => {
    const i = (y * 8 + x) % 32;
    return [seed[i]!, seed[(i + 11) % 32]!, seed[(i + 23) % 32]!];
  });
}

/**
 * A collection already published (as if through the factory), its editions allocated:
 * for sale tests that need no chain.
 */
export async function publishedCollection(
  test: TestPlatform,
  terms: {
    editionSize?: number;
    perPersonLimit?: number;
    priceFen?: number;
    startsInMs?: number;
    endsInMs?: number;
  } = {},
) {
  const { issuers, collections } = await import("../../server/db/schema.js");
  const { platform } = test;
  const [issuer] = await platform.db
    .insert(issuers)
    .values({ name: "测试博物馆", status: "approved", creditCode: `TEST${randomBytes(7).toString("hex")}` })
    .returning();
  const file = pngBytes();
  const { sha256 } = await platform.catalog.registerMedia(platform.db, issuer!.id, file);
  const now = test.clock.now().getTime();
  const [row] = await platform.db
    .insert(collections)
    .values({
      issuerId: issuer!.id,
      title: "测试藏品",
      description: "d",
      creator: "c",
      story: "s",
      mediaSha256: sha256,
      editionSize: terms.editionSize ?? 100,
      priceFen: terms.priceFen ?? 1990,
      saleStartsAt: new Date(now + (terms.startsInMs ?? -60_000)),
      saleEndsAt: new Date(now + (terms.endsInMs ?? 86_400_000)),
      perPersonLimit: terms.perPersonLimit ?? 2,
      lockDays: 180,
      regiftDays: 730,
      status: "published",
      contractAddress: `0x${randomBytes(20).toString("hex")}`,
    })
    .returning();
  await platform.drops.allocate(platform.db, row!.id, row!.editionSize);
  return row!;
}

let identitySequence = 100;
/** A logged-in collector whose real-name verification holds (each with an identity of their own). */
export async function verifiedCollector(test: TestPlatform) {
  const person = await login(test);
  identitySequence = identitySequence >= 999 ? 100 : identitySequence + 1;
  // Taken before any await: collectors made at the same time must not read each other's number.
  const sequence = identitySequence;
  await stepUp(test, person.caller, "kyc");
  await person.caller.kyc.submit({
    name: "王小明",
    idNumber: makeIdNumber("19900307", "110101", String(sequence)),
  });
  return person;
}

/** A TCP port nothing listens on right now (for servers whose origin must be known before they start). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether the Redis at `url` answers; with `flush`, its database is emptied too (a database the caller owns). */
export async function redisAnswers(url: string, options: { flush?: boolean } = {}): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await probe.connect();
    if (options.flush === true) await probe.flushdb();
    return true;
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
