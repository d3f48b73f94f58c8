import { type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

import { Mnemonic } from "ethers";
import { z } from "zod";

import { MIN_LOCK_DAYS } from "./modules/catalog/rules.js";

/**
 * Every setting of the server, read once from the environment at start-up.
 * A bad value stops the process with a message naming the variable. The
 * environment table in docs/operations.md lists the same variables with their defaults.
 */

const booleanFromEnv = z.enum(["true", "false", "1", "0"]).transform((value) => value === "true" || value === "1");

/** `kid:base64key,kid:base64key` — 32-byte AES keys by key id. */
const piiKeys = z.string().transform((value, ctx) => {
  const keys = new Map<string, Buffer>();
  for (const part of value.split(",").filter(Boolean)) {
    const [id, encoded] = part.split(":");
    const key = Buffer.from(encoded ?? "", "base64");
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key.length !== 32) {
      ctx.addIssue({ code: "custom", message: "each entry must be <key id>:<32 bytes in base64>" });
      return z.NEVER;
    }
    keys.set(id, key);
  }
  if (keys.size === 0) {
    ctx.addIssue({ code: "custom", message: "at least one key is needed" });
    return z.NEVER;
  }
  return keys;
});

const secret = z.string().min(32, "must be at least 32 characters");

/** A 20-byte account address, `0x` and 40 hex digits (any case). */
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, "must be an account address (0x and 40 hex digits)");

/**
 * The setting naming each role's account when the role keys are remote, by
 * platform role (the names of server/modules/wallets/custody.ts `PlatformRole`).
 */
export const ROLE_ACCOUNT_VARIABLES = {
  kycOperator: "ROLE_ACCOUNT_KYC_OPERATOR",
  compliance: "ROLE_ACCOUNT_COMPLIANCE",
  publisher: "ROLE_ACCOUNT_PUBLISHER",
  platformAdmin: "ROLE_ACCOUNT_PLATFORM_ADMIN",
  minter: "ROLE_ACCOUNT_MINTER",
} as const;

/** `kid:base64 PKCS#8 DER,…` — the P-256 (ES256) keys the platform signs credentials with, by key id. */
const credentialKeys = z.string().transform((value, ctx) => {
  const keys = new Map<string, KeyObject>();
  for (const part of value.split(",").filter(Boolean)) {
    const [id, encoded] = part.split(":");
    let key: KeyObject | null;
    try {
      key = createPrivateKey({ key: Buffer.from(encoded ?? "", "base64"), format: "der", type: "pkcs8" });
    } catch {
      key = null;
    }
    if (!id || !/^[A-Za-z0-9_-]{1,32}$/.test(id) || key?.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
      ctx.addIssue({
        code: "custom",
        message: "each entry must be <key id>:<P-256 private key, PKCS#8 DER in base64>",
      });
      return z.NEVER;
    }
    keys.set(id, key);
  }
  if (keys.size === 0) {
    ctx.addIssue({ code: "custom", message: "at least one key is needed" });
    return z.NEVER;
  }
  return keys;
});

/** A comma-separated list of `did:web` identifiers. */
const didWebList = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((d) => d.trim())
      .filter((d) => d !== ""),
  )
  .pipe(
    z.array(
      z
        .string()
        .regex(/^did:web:[A-Za-z0-9.%_-]+(:[A-Za-z0-9.%_-]+)*$/, "must be did:web identifiers, comma-separated"),
    ),
  );

/** PEM text of a key; an env var may carry the line breaks as literal `\\n`. */
const pemText = (label: "PRIVATE KEY" | "PUBLIC KEY") =>
  z
    .string()
    .transform((value) => value.replace(/\\n/g, "\n"))
    .refine((value) => {
      if (!new RegExp(`-----BEGIN (RSA )?${label}-----`).test(value)) return false;
      try {
        (label === "PRIVATE KEY" ? createPrivateKey : createPublicKey)(value);
        return true;
      } catch {
        return false;
      }
    }, `must be a PEM ${label.toLowerCase()} (-----BEGIN ${label}-----) that parses`);

export const environmentSchema = z.object({
  /** `development`, `test` or `production`; `production` requires every secret from the environment. */
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  /** The address the server listens on. */
  HOST: z.string().default("127.0.0.1"),
  /** The port the server listens on. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Which proxies' `X-Forwarded-For` to believe for the client's address (per-IP limits, logs): `true` (every
   * hop: only behind a proxy that overwrites the header), a hop count, or comma-separated proxy IPs/CIDRs. Run
   * production behind a TLS-terminating proxy or load balancer and name it here, or every user shares its address.
   * @default (none: the socket's address)
   */
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((value): boolean | number | string[] | undefined => {
      if (value === undefined || value.trim() === "" || value === "false") return undefined;
      if (value === "true") return true;
      if (/^\d+$/.test(value)) return Number(value);
      return value
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part !== "");
    }),
  /**
   * Load shedding: while the event loop lags more than this, requests (but health and metrics) are answered 503
   * with Retry-After before they queue up; 0 turns it off. Off outside production, where the embedded PGlite
   * runs its queries on the event loop.
   * @default `1000` in production, `0` otherwise
   */
  SHED_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60000).optional(),
  /** The site's origin; `https://` makes cookies `Secure`. */
  PUBLIC_ORIGIN: z.url().default("http://127.0.0.1:3000"),
  /** Log level (pino); request logs at `info`. */
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** PGlite data and development secrets. */
  DATA_DIR: z.string().default(".data"),
  /**
   * PostgreSQL connection string; without it the embedded PGlite in DATA_DIR.
   * @default (none: embedded PGlite)
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  /** PostgreSQL pool size. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * PostgreSQL schema changes: `apply` migrates at start (one instance at a time), `verify` refuses to start on a
   * schema behind this version. Default: `verify` in production (run `npm run db:migrate`), `apply` otherwise.
   * @default `verify` in production, `apply` otherwise
   */
  DATABASE_MIGRATIONS: z.enum(["apply", "verify"]).optional(),
  /**
   * What this process does: `all` serves HTTP and runs the periodic jobs (one process, the default); `api` only
   * serves HTTP (any number of instances); `worker` only runs the periodic jobs (mint rounds, expiry, sync, purge).
   */
  SERVER_ROLE: z.enum(["all", "api", "worker"]).default("all"),

  /** A collector's session: its absolute lifetime in days from login, however active. */
  SESSION_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  /** A collector's session ends after this many minutes without a request (checked within 5 minutes). */
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(5).max(43_200).default(1440),
  /** An issuer staff member's or an operator's session: its absolute lifetime in hours from login. */
  SESSION_STAFF_TTL_HOURS: z.coerce.number().int().min(1).max(168).default(12),
  /** An issuer staff member's or an operator's session ends after this many idle minutes. */
  SESSION_STAFF_IDLE_MINUTES: z.coerce.number().int().min(5).max(1440).default(30),
  /**
   * How long a confirmed step-up (a fresh SMS code for a data export, a gift or a real-name submission) lets
   * its session do that action, in minutes; a gift spends it at once whatever the window.
   */
  STEP_UP_WINDOW_MINUTES: z.coerce.number().int().min(1).max(60).default(5),
  /** Airdrop list checks (and airdrops) one issuer staff account may run per hour. */
  AIRDROP_CHECKS_PER_HOUR: z.coerce.number().int().min(1).max(10_000).default(30),
  /**
   * Airdrop list entries that "cannot receive" one issuer may be answered per day; past it, lists with such
   * entries are refused unanswered (a list of guessed phone numbers is mostly such entries).
   */
  AIRDROP_REFUSED_ENTRIES_PER_DAY: z.coerce.number().int().min(1).max(1_000_000).default(200),
  /** Login code lifetime. */
  OTP_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /** Wrong codes for one number before its logins are locked. */
  OTP_MAX_FAILURES: z.coerce.number().int().min(1).max(20).default(5),
  /** How long a number stays locked after OTP_MAX_FAILURES wrong codes. */
  OTP_LOCK_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  /** Minimum interval between codes to one number. */
  OTP_RESEND_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Codes per number per day. */
  OTP_DAILY_LIMIT_PER_PHONE: z.coerce.number().int().min(1).max(1000).default(10),
  /** Code requests per IP per hour. */
  OTP_HOURLY_LIMIT_PER_IP: z.coerce.number().int().min(1).max(100000).default(30),
  /** Login attempts per IP per 15 minutes. */
  LOGIN_ATTEMPTS_PER_IP_15MIN: z.coerce.number().int().min(1).max(100000).default(50),
  /**
   * `console` prints codes with the masked number (development only: production refuses it); `aliyun` sends
   * them through Alibaba Cloud SMS `SendSms` (signed requests; the ALIYUN_SMS_* settings).
   */
  SMS_PROVIDER: z.enum(["console", "aliyun"]).default("console"),
  /** The RAM AccessKey id allowed to call Alibaba Cloud SMS `SendSms` (required when `SMS_PROVIDER=aliyun`). */
  ALIYUN_SMS_ACCESS_KEY_ID: z.string().min(1).optional(),
  /** Its AccessKey secret, which signs every request (required when `SMS_PROVIDER=aliyun`). */
  ALIYUN_SMS_ACCESS_KEY_SECRET: z.string().min(1).optional(),
  /** The approved SMS signature (签名) shown in each message (required when `SMS_PROVIDER=aliyun`). */
  ALIYUN_SMS_SIGN_NAME: z.string().min(1).optional(),
  /** The approved login-code template, `SMS_…`, with a `${code}` variable (required when `SMS_PROVIDER=aliyun`). */
  ALIYUN_SMS_TEMPLATE_CODE: z.string().min(1).optional(),
  /**
   * The SMS API's base URL.
   * @default `https://dysmsapi.aliyuncs.com`
   */
  ALIYUN_SMS_ENDPOINT: z.url().optional(),

  /** Age gate. */
  KYC_MIN_AGE: z.coerce.number().int().min(14).max(30).default(18),
  /** Refused real-name attempts per account per 24 hours. */
  KYC_REFUSED_ATTEMPTS_PER_DAY: z.coerce.number().int().min(1).max(1000).default(10),
  /** How long a verification lasts. */
  KYC_VALIDITY_DAYS: z.coerce.number().int().min(1).max(3650).default(365),
  /** `sandbox` or `http`; production refuses sandbox. */
  KYC_PROVIDER: z.enum(["sandbox", "http"]).default("sandbox"),
  /** The HTTP KYC provider's endpoint (required when `KYC_PROVIDER=http`). */
  KYC_HTTP_URL: z.url().optional(),
  /** The platform's app id at the HTTP KYC provider (required when `KYC_PROVIDER=http`). */
  KYC_HTTP_APP_ID: z.string().min(1).optional(),
  /** The request-signing secret shared with the HTTP KYC provider (≥ 16 chars; required when `KYC_PROVIDER=http`). */
  KYC_HTTP_SECRET: z.string().min(16).optional(),
  /** Time limit of one try at the HTTP KYC provider. */
  KYC_HTTP_TIMEOUT_MS: z.coerce.number().int().min(100).max(60000).default(5000),
  /** Tries at the HTTP KYC provider after the first. */
  KYC_HTTP_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  /** How long a sealed identity is kept after an erasure request. */
  PII_RETENTION_YEARS: z.coerce.number().int().min(0).max(30).default(3),

  /** The built web app the server serves when present. */
  WEB_DIST_DIR: z.string().default("dist/web"),
  /**
   * Shown in the site footer: the CAC blockchain information service filing number and the ICP number.
   * @default (empty; `npm start`: a demo notice)
   */
  SITE_BLOCKCHAIN_FILING_NO: z.string().max(60).default(""),
  /**
   * The ICP filing number shown in the site footer.
   * @default (empty; `npm start`: a demo notice)
   */
  SITE_ICP_NO: z.string().max(60).default(""),
  /** Phone numbers whose accounts are made platform operators at start-up (how the first operator is created). */
  OPERATOR_PHONES: z
    .string()
    .default("")
    .transform((value) =>
      value
        .split(",")
        .map((p) => p.trim())
        .filter((p) => p !== ""),
    )
    .pipe(z.array(z.string().regex(/^1[3-9]\d{9}$/, "must be 11-digit mainland mobile numbers, comma-separated"))),
  /**
   * Seeds the demo issuer, collections and accounts into an empty database (`npm start` sets it).
   * @default `false` (`npm start`: `true`)
   */
  DEMO_SEED: booleanFromEnv.default(false),
  /**
   * When set, `/metrics` answers only `Authorization: Bearer <METRICS_TOKEN>` (the scraper's secret).
   * @default (none: `/metrics` open to the internal network)
   */
  METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  /**
   * Largest artwork upload.
   * @default `20971520` (20 MB)
   */
  MEDIA_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(1024 * 1024 * 1024)
    .default(20 * 1024 * 1024),
  /**
   * Folder of artwork files when MEDIA_STORE=local.
   * @default DATA_DIR/media
   */
  MEDIA_DIR: z.string().optional(),
  /** Where artwork files are kept: MEDIA_DIR (local) or an S3-compatible bucket (s3, S3_* settings). */
  MEDIA_STORE: z.enum(["local", "s3"]).default("local"),
  /** The S3-compatible store's endpoint (AWS when unset). */
  S3_ENDPOINT: z.url().optional(),
  /** The bucket of artwork files (required when `MEDIA_STORE=s3`). */
  S3_BUCKET: z.string().min(1).optional(),
  /** The bucket's region (required when `MEDIA_STORE=s3`). */
  S3_REGION: z.string().min(1).optional(),
  /** The store's access key id (required when `MEDIA_STORE=s3`). */
  S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  /** The store's secret access key (required when `MEDIA_STORE=s3`). */
  S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Path-style bucket URLs (MinIO and most self-hosted stores). */
  S3_FORCE_PATH_STYLE: booleanFromEnv.default(false),
  /**
   * The flash-sale admission gate's Redis; without it the gate lives in the server's memory (one instance).
   * @default (none: in-memory gate and limits)
   */
  REDIS_URL: z.url().optional(),
  /**
   * Adds `POST /api/bench/echo`, which answers its JSON body back through the same stack (security headers, cookies,
   * load shedding, request log): the HTTP ceiling `npm run bench:flash-sale` measures the reservation door against.
   * Harmless (it reads and writes nothing) but of no use to visitors: leave it off outside that benchmark.
   */
  BENCH_ECHO_ROUTE: booleanFromEnv.default(false),
  /** Reservation attempts per person per minute. */
  RESERVE_ATTEMPTS_PER_MINUTE: z.coerce.number().int().min(1).max(10000).default(20),
  /** How long an unpaid order holds its editions. */
  PAYMENT_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(10),
  /** How often unpaid orders past their window are expired. */
  ORDER_EXPIRY_INTERVAL_MS: z.coerce.number().int().min(50).max(600000).default(5000),
  /** How often the scheduler draws the lotteries whose fixed draw time has passed. */
  LOTTERY_DRAW_INTERVAL_MS: z.coerce.number().int().min(50).max(600000).default(5000),
  /** A refund the provider has not confirmed after this long is asked for again (same refund number). */
  REFUND_RESEND_AFTER_SECONDS: z.coerce.number().int().min(1).max(86400).default(30),
  /** How often the scheduler looks for refunds to ask for again. */
  REFUND_RESEND_INTERVAL_MS: z.coerce.number().int().min(50).max(3600000).default(10000),
  /** How often the compliance outbox (freezes, recoveries, takedowns recorded but not yet on chain) is sent again. */
  COMPLIANCE_SEND_INTERVAL_MS: z.coerce.number().int().min(50).max(3600000).default(10000),
  /** How often personal data past its retention (PII_RETENTION_YEARS) is erased. */
  PII_PURGE_INTERVAL_MS: z.coerce.number().int().min(1000).max(86400000).default(3600000),
  /** How often the scheduler reconciles the previous China day's provider statement (until it has). */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1000).max(86400000).default(3600000),
  /** The platform's floor for a collection's transfer lock (never below the contract's 180 days). */
  COLLECTION_MIN_LOCK_DAYS: z.coerce.number().int().min(MIN_LOCK_DAYS).max(36500).default(MIN_LOCK_DAYS),
  /** The platform's floor for a collection's re-gift lock. */
  COLLECTION_MIN_REGIFT_DAYS: z.coerce.number().int().min(MIN_LOCK_DAYS).max(36500).default(730),

  /**
   * `kid:base64(32 bytes)[,kid:…]`, the vault's AES-256 keys.
   * @default (development file)
   */
  PII_KEYS: piiKeys.optional(),
  /**
   * The key new values are sealed with.
   * @default (development file)
   */
  PII_ACTIVE_KEY_ID: z.string().optional(),
  /**
   * HMAC key of the on-chain identity commitment (≥ 32 chars).
   * @default (development file)
   */
  IDENTITY_PEPPER: secret.optional(),
  /**
   * HMAC key of phone, code and session lookups (≥ 32 chars).
   * @default (development file)
   */
  LOOKUP_PEPPER: secret.optional(),
  /**
   * BIP-39 seed of custodial and platform accounts.
   * @default (development file)
   */
  WALLET_MNEMONIC: z
    .string()
    .refine((value) => Mnemonic.isValidMnemonic(value), "must be a valid BIP-39 mnemonic")
    .optional(),
  /**
   * Keys of the platform's credential issuer (did:web of PUBLIC_ORIGIN); all are published, the active one signs.
   * @default (development file)
   */
  CREDENTIAL_SIGNING_KEYS: credentialKeys.optional(),
  /**
   * The key id (in CREDENTIAL_SIGNING_KEYS) new credentials are signed with.
   * @default (development file)
   */
  CREDENTIAL_ACTIVE_KEY_ID: z.string().optional(),
  /** Longest life of a real-name credential (it never outlives the verification behind it). */
  CREDENTIAL_VALIDITY_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Issuers whose SD-JWT VCs are accepted for real-name verification instead of an ID number. */
  TRUSTED_CREDENTIAL_ISSUERS: didWebList,
  /** The built-in stand-in issuer (did:web of PUBLIC_ORIGIN + `:demo-issuer`), trusted; never in production. */
  CREDENTIAL_DEMO_ISSUER: booleanFromEnv.optional(),

  /**
   * Where the role keys are (the accounts holding the AccessManager roles): `mnemonic` derives them from
   * WALLET_MNEMONIC in this process, `web3signer` asks a Web3Signer (WEB3SIGNER_URL) that holds them.
   * Production refuses `mnemonic` unless ALLOW_MNEMONIC_ROLE_KEYS=true. Collector keys always come from
   * WALLET_MNEMONIC.
   */
  ROLE_SIGNER: z.enum(["mnemonic", "web3signer"]).default("mnemonic"),
  /** Production accepts role keys derived from WALLET_MNEMONIC only with this set to `true`. */
  ALLOW_MNEMONIC_ROLE_KEYS: booleanFromEnv.default(false),
  /** Web3Signer's Ethereum JSON-RPC endpoint (`eth_accounts`, `eth_signTransaction`); required for web3signer. */
  WEB3SIGNER_URL: z.url().optional(),
  /** Each request to the remote signer gives up after this long. */
  WEB3SIGNER_TIMEOUT_MS: z.coerce.number().int().min(100).max(600000).default(10000),
  /** The kycOperator role's account at the remote signer (required for web3signer). */
  ROLE_ACCOUNT_KYC_OPERATOR: address.optional(),
  /** The compliance role's account at the remote signer (required for web3signer). */
  ROLE_ACCOUNT_COMPLIANCE: address.optional(),
  /** The publisher role's account at the remote signer (required for web3signer). */
  ROLE_ACCOUNT_PUBLISHER: address.optional(),
  /** The platformAdmin role's account at the remote signer (required for web3signer). */
  ROLE_ACCOUNT_PLATFORM_ADMIN: address.optional(),
  /** The minter's account at the remote signer (required for web3signer). */
  ROLE_ACCOUNT_MINTER: address.optional(),

  /** `false` runs without a chain (registry writes wait). */
  CHAIN_ENABLED: booleanFromEnv.default(true),
  /** JSON-RPC of the chain. */
  CHAIN_RPC_URL: z.url().default("http://127.0.0.1:8545"),
  /** Each JSON-RPC request gives up after this long (a partitioned chain fails fast and is retried). */
  CHAIN_RPC_TIMEOUT_MS: z.coerce.number().int().min(500).max(600000).default(15000),
  /** A sent transaction without a receipt after this long counts as failed; its owner asks the chain and retries. */
  CHAIN_RECEIPT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3600000).default(120000),
  /** Confirmations to wait for. */
  CHAIN_CONFIRMATIONS: z.coerce.number().int().min(1).max(100).default(1),
  /** Gas price in wei (0 on gas-free consortium chains). */
  CHAIN_GAS_PRICE: z.coerce.bigint().min(0n).default(0n),
  /**
   * The chain's EIP-155 id: required in production; readiness fails while the chain answers another, and holders'
   * did:pkh in credentials name it.
   * @default (none; required in production; credentials then name 31337, the local chain)
   */
  CHAIN_ID: z.coerce.number().int().positive().optional(),
  /** Where Ignition recorded the contract addresses. */
  CHAIN_DEPLOYMENT_FILE: z.string().default("ignition/deployments/chain-31337/deployed_addresses.json"),
  /** Gifts one person may send per 24 hours. */
  GIFT_DAILY_CAP: z.coerce.number().int().min(1).max(1000).default(3),
  /** Most mint jobs in one batch (one `mintEach`; at most 500): a ceiling; the worker sizes batches so a block holds whole ones (188 in a 60 M block). */
  MINT_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(200),
  /**
   * Batches of one collection the mint worker keeps in flight at once (sent together, landing one after
   * another): with 2-second blocks, one batch per round and collection would leave most of each block empty.
   */
  MINT_PIPELINE_DEPTH: z.coerce.number().int().min(1).max(50).default(10),
  /** How often the mint worker runs a round. */
  MINT_INTERVAL_MS: z.coerce.number().int().min(50).max(600000).default(1000),
  /** How often the registry outbox is drained. */
  REGISTRY_SYNC_INTERVAL_MS: z.coerce.number().int().min(50).max(600000).default(1000),

  /** The fiat cashier; the sandbox pays any order, so production refuses it. */
  PAYMENT_PROVIDER: z.enum(["sandbox", "alipay", "wechatpay"]).default("sandbox"),
  /** The Alipay app id (required when `PAYMENT_PROVIDER=alipay`). */
  ALIPAY_APP_ID: z.string().min(1).optional(),
  /**
   * The merchant's Alipay seller id (the PID, `2088` + 12 digits): a notification whose `seller_id` is another
   * is refused, as Alipay's rules require. Required in production when `PAYMENT_PROVIDER=alipay`.
   * @default (none; notifications' seller_id unchecked outside production)
   */
  ALIPAY_SELLER_ID: z
    .string()
    .regex(/^2088\d{12}$/, "must be the Alipay seller id (2088 and 12 digits)")
    .optional(),
  /** The merchant's application private key (required when `PAYMENT_PROVIDER=alipay`). */
  ALIPAY_PRIVATE_KEY: z.string().min(1).optional(),
  /** Alipay's public key (required when `alipay`). */
  ALIPAY_PUBLIC_KEY: z.string().min(1).optional(),
  /**
   * The gateway (e.g. Alipay's sandbox).
   * @default `https://openapi.alipay.com/gateway.do`
   */
  ALIPAY_GATEWAY: z.url().optional(),
  /** The WeChat Pay app id (required when `PAYMENT_PROVIDER=wechatpay`). */
  WECHATPAY_APP_ID: z.string().min(1).optional(),
  /** The WeChat Pay merchant id (required when `PAYMENT_PROVIDER=wechatpay`). */
  WECHATPAY_MCH_ID: z
    .string()
    .regex(/^\d{1,32}$/, "must be the merchant id (digits)")
    .optional(),
  /** The serial number of the merchant API certificate (hex). */
  WECHATPAY_MCH_SERIAL: z
    .string()
    .regex(/^[0-9A-Fa-f]{8,64}$/, "must be the merchant API certificate serial number (hex)")
    .optional(),
  /** The merchant API private key (PEM; `\n` line breaks accepted). */
  WECHATPAY_PRIVATE_KEY: pemText("PRIVATE KEY").optional(),
  /** The APIv3 key that encrypts notification resources: exactly 32 bytes. */
  WECHATPAY_API_V3_KEY: z
    .string()
    .refine((value) => Buffer.byteLength(value, "utf8") === 32, "must be exactly 32 bytes")
    .optional(),
  /** WeChat Pay's public key (PEM) and its id (PUB_KEY_ID_…), for answers and notifications. */
  WECHATPAY_PLATFORM_PUBLIC_KEY: pemText("PUBLIC KEY").optional(),
  /** Its id, `PUB_KEY_ID_…` (required when `wechatpay`). */
  WECHATPAY_PLATFORM_PUBLIC_KEY_ID: z.string().min(1).optional(),
  /**
   * The API base URL.
   * @default `https://api.mch.weixin.qq.com`
   */
  WECHATPAY_GATEWAY: z.url().optional(),
});

export type Environment = z.infer<typeof environmentSchema>;

export interface Secrets {
  /** AES-256-GCM keys of the PII vault, by key id. */
  piiKeys: Map<string, Buffer>;
  /** The key id new ciphertexts are written with. */
  piiActiveKeyId: string;
  /** HMAC key of the identity commitment written on chain. */
  identityPepper: string;
  /** HMAC key of lookup hashes (phone numbers, one-time codes, session tokens). */
  lookupPepper: string;
  /** The seed of every custodial and platform account. */
  walletMnemonic: string;
  /** P-256 keys of the credential issuer by key id, and the one that signs new credentials. */
  credentialKeys: Map<string, KeyObject>;
  credentialActiveKeyId: string;
}

export interface Config {
  env: Environment;
  secrets: Secrets;
  /** Where the secrets came from: the environment, or the development file in DATA_DIR. */
  secretsSource: "environment" | "development-file";
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const SECRET_VARIABLES = [
  "PII_KEYS",
  "PII_ACTIVE_KEY_ID",
  "IDENTITY_PEPPER",
  "LOOKUP_PEPPER",
  "WALLET_MNEMONIC",
  "CREDENTIAL_SIGNING_KEYS",
] as const;

/**
 * Parses `source` (process.env by default). In production every secret must
 * come from the environment; in development and test, missing secrets are
 * generated once into `DATA_DIR/dev-secrets.json` so `npm start` works with
 * no setup.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  const parsed = environmentSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`));
  }
  const env = parsed.data;
  const problems: string[] = [];
  if (env.KYC_PROVIDER === "http") {
    for (const name of ["KYC_HTTP_URL", "KYC_HTTP_APP_ID", "KYC_HTTP_SECRET"] as const) {
      if (env[name] === undefined) problems.push(`${name}: required when KYC_PROVIDER=http`);
    }
  }

  if (env.MEDIA_STORE === "s3") {
    for (const name of ["S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"] as const) {
      if (env[name] === undefined) problems.push(`${name}: required when MEDIA_STORE=s3`);
    }
  }

  const missing = SECRET_VARIABLES.filter((name) => env[name] === undefined);
  let secretsSource: Config["secretsSource"] = "environment";
  let fallback: Partial<Record<(typeof SECRET_VARIABLES)[number], string>> = {};
  if (missing.length > 0) {
    if (env.NODE_ENV === "production") {
      problems.push(...missing.map((name) => `${name}: required in production`));
    } else {
      fallback = developmentSecrets(env.DATA_DIR);
      secretsSource = "development-file";
    }
  }
  if (env.NODE_ENV === "production" && env.CHAIN_ENABLED) {
    if (env.CHAIN_ID === undefined) problems.push("CHAIN_ID: required in production (the permissioned chain's id)");
    if (source.CHAIN_DEPLOYMENT_FILE === undefined)
      problems.push("CHAIN_DEPLOYMENT_FILE: required in production (the Ignition deployment of your chain)");
  }
  if (env.KYC_PROVIDER === "sandbox" && env.NODE_ENV === "production")
    problems.push("KYC_PROVIDER: the sandbox verifies every well-formed identity; set KYC_PROVIDER=http in production");
  if (env.PAYMENT_PROVIDER === "sandbox" && env.NODE_ENV === "production")
    problems.push("PAYMENT_PROVIDER: the sandbox cashier pays any order; set a live provider in production");
  if (env.SMS_PROVIDER === "console" && env.NODE_ENV === "production")
    problems.push("SMS_PROVIDER: the console prints every login code; set SMS_PROVIDER=aliyun in production");
  if (env.SMS_PROVIDER === "aliyun") {
    for (const name of [
      "ALIYUN_SMS_ACCESS_KEY_ID",
      "ALIYUN_SMS_ACCESS_KEY_SECRET",
      "ALIYUN_SMS_SIGN_NAME",
      "ALIYUN_SMS_TEMPLATE_CODE",
    ] as const) {
      if (env[name] === undefined) problems.push(`${name}: required when SMS_PROVIDER=aliyun`);
    }
  }
  if (env.PAYMENT_PROVIDER === "alipay") {
    for (const name of ["ALIPAY_APP_ID", "ALIPAY_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY"] as const) {
      if (env[name] === undefined) problems.push(`${name}: required when PAYMENT_PROVIDER=alipay`);
    }
    if (env.ALIPAY_SELLER_ID === undefined && env.NODE_ENV === "production")
      problems.push("ALIPAY_SELLER_ID: required in production when PAYMENT_PROVIDER=alipay (notifications' seller_id)");
  }
  if (env.PAYMENT_PROVIDER === "wechatpay") {
    for (const name of [
      "WECHATPAY_APP_ID",
      "WECHATPAY_MCH_ID",
      "WECHATPAY_MCH_SERIAL",
      "WECHATPAY_PRIVATE_KEY",
      "WECHATPAY_API_V3_KEY",
      "WECHATPAY_PLATFORM_PUBLIC_KEY",
      "WECHATPAY_PLATFORM_PUBLIC_KEY_ID",
    ] as const) {
      if (env[name] === undefined) problems.push(`${name}: required when PAYMENT_PROVIDER=wechatpay`);
    }
  }
  problems.push(...roleSignerProblems(env));

  if (env.CREDENTIAL_DEMO_ISSUER === true && env.NODE_ENV === "production")
    problems.push("CREDENTIAL_DEMO_ISSUER: the stand-in issuer vouches for anyone; it is refused in production");
  if (problems.length > 0) throw new ConfigError(problems);
  env.DATABASE_MIGRATIONS ??= env.NODE_ENV === "production" ? "verify" : "apply";
  env.SHED_EVENT_LOOP_DELAY_MS ??= env.NODE_ENV === "production" ? 1000 : 0;

  const keys = env.PII_KEYS ?? piiKeys.parse(fallback.PII_KEYS);
  const piiActiveKeyId = env.PII_ACTIVE_KEY_ID ?? fallback.PII_ACTIVE_KEY_ID ?? [...keys.keys()][0]!;
  if (!keys.has(piiActiveKeyId)) {
    throw new ConfigError([`PII_ACTIVE_KEY_ID: no key "${piiActiveKeyId}" in PII_KEYS`]);
  }
  const credentialKeyMap = env.CREDENTIAL_SIGNING_KEYS ?? credentialKeys.parse(fallback.CREDENTIAL_SIGNING_KEYS);
  const credentialActiveKeyId = env.CREDENTIAL_ACTIVE_KEY_ID ?? [...credentialKeyMap.keys()].at(-1)!;
  if (!credentialKeyMap.has(credentialActiveKeyId)) {
    throw new ConfigError([`CREDENTIAL_ACTIVE_KEY_ID: no key "${credentialActiveKeyId}" in CREDENTIAL_SIGNING_KEYS`]);
  }
  return {
    env,
    secretsSource,
    secrets: {
      piiKeys: keys,
      piiActiveKeyId,
      identityPepper: env.IDENTITY_PEPPER ?? fallback.IDENTITY_PEPPER!,
      lookupPepper: env.LOOKUP_PEPPER ?? fallback.LOOKUP_PEPPER!,
      walletMnemonic: env.WALLET_MNEMONIC ?? fallback.WALLET_MNEMONIC!,
      credentialKeys: credentialKeyMap,
      credentialActiveKeyId,
    },
  };
}

/** What is wrong with the role-key settings (ROLE_SIGNER and its companions), one line per problem. */
function roleSignerProblems(env: Environment): string[] {
  const problems: string[] = [];
  if (env.ROLE_SIGNER === "mnemonic" && env.NODE_ENV === "production" && !env.ALLOW_MNEMONIC_ROLE_KEYS) {
    problems.push(
      "ROLE_SIGNER: production keeps the role keys out of the server; set ROLE_SIGNER=web3signer " +
        "(with WEB3SIGNER_URL and ROLE_ACCOUNT_*), or ALLOW_MNEMONIC_ROLE_KEYS=true to accept role keys " +
        "derived from WALLET_MNEMONIC",
    );
  }
  if (env.ROLE_SIGNER !== "web3signer") return problems;
  if (env.WEB3SIGNER_URL === undefined) problems.push("WEB3SIGNER_URL: required when ROLE_SIGNER=web3signer");
  const seen = new Map<string, string>();
  for (const name of Object.values(ROLE_ACCOUNT_VARIABLES)) {
    const value = env[name];
    if (value === undefined) {
      problems.push(`${name}: required when ROLE_SIGNER=web3signer`);
      continue;
    }
    const other = seen.get(value.toLowerCase());
    if (other !== undefined) {
      problems.push(`${name}: the same account as ${other}; each role needs its own account (its own nonces)`);
    }
    seen.set(value.toLowerCase(), name);
  }
  return problems;
}

/** Development-only secrets, generated once and kept beside the embedded database. */
function developmentSecrets(dataDir: string): Record<(typeof SECRET_VARIABLES)[number], string> {
  const file = path.join(dataDir, "dev-secrets.json");
  const kept: Partial<Record<(typeof SECRET_VARIABLES)[number], string>> = existsSync(file)
    ? JSON.parse(readFileSync(file, "utf8"))
    : {};
  // A file from before a secret existed gets only the missing ones added.
  if (SECRET_VARIABLES.every((name) => kept[name] !== undefined)) return kept as Record<string, string>;
  const generated = {
    PII_KEYS: `dev1:${randomBytes(32).toString("base64")}`,
    PII_ACTIVE_KEY_ID: "dev1",
    IDENTITY_PEPPER: randomBytes(32).toString("hex"),
    LOOKUP_PEPPER: randomBytes(32).toString("hex"),
    WALLET_MNEMONIC: Mnemonic.fromEntropy(randomBytes(16)).phrase,
    CREDENTIAL_SIGNING_KEYS: `dev1:${generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "der", type: "pkcs8" }).toString("base64")}`,
    ...kept,
  };
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, `${JSON.stringify(generated, null, 2)}\n`, { mode: 0o600 });
  return generated;
}

/** {@link loadConfig} for entry points: a bad setting prints the problems and exits with status 1. */
export function loadConfigOrExit(source: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(source);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
