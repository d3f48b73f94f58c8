import path from "node:path";

import { Redis } from "ioredis";

import { type Chain, createChain, readDeployment, rpcProvider } from "./chain/client.js";
import type { Config } from "./config.js";
import { type Database, type Db, openDatabase } from "./db/client.js";
import { type MediaStore, createLocalMediaStore, createS3MediaStore } from "./modules/catalog/media.js";
import { type CatalogService, createCatalogService } from "./modules/catalog/service.js";
import { type AirdropDependencies, type AirdropService, createAirdropService } from "./modules/drops/airdrop.js";
import { type ChainAnchor, type LotteryService, createLotteryService } from "./modules/drops/lottery.js";
import { type DropsService, createDropsService } from "./modules/drops/service.js";
import { type CollectiblesService, createCollectiblesService } from "./modules/collectibles/service.js";
import { type IdentityService, createIdentityService } from "./modules/identity/service.js";
import { type MintingService, createMintingService } from "./modules/minting/service.js";
import { type MintWorker, createMintWorker } from "./modules/minting/worker.js";
import { type AdmissionGate, createMemoryGate, createRedisGate } from "./modules/drops/gate.js";
import { memoryLimiters, redisLimiters } from "./security/rate-limits.js";
import { type OpsService, createOpsService } from "./modules/ops/service.js";
import { type ComplianceService, createComplianceService } from "./modules/compliance/service.js";
import { type PaymentsService, createPaymentsService } from "./modules/payments/service.js";
import { type RegistrySync, createRegistrySync } from "./modules/kyc/registry-sync.js";
import { type KycService, createKycService } from "./modules/kyc/service.js";
import { type KeyCustody } from "./modules/wallets/custody.js";
import { openCustody } from "./modules/wallets/remote-signer.js";
import type { CredentialsService } from "./modules/credentials/service.js";
import { credentialsFor } from "./modules/credentials/setup.js";
import { type WalletService, createWalletService } from "./modules/wallets/service.js";
import { createHttpKycProvider } from "./providers/kyc/http.js";
import { createSandboxKycProvider } from "./providers/kyc/sandbox.js";
import type { KycProvider } from "./providers/kyc/types.js";
import { createAlipayPaymentProvider } from "./providers/payments/alipay.js";
import { createAliyunSmsProvider } from "./providers/sms/aliyun.js";
import { createWechatpayPaymentProvider } from "./providers/payments/wechatpay.js";
import { type SandboxPaymentProvider, createSandboxPaymentProvider } from "./providers/payments/sandbox.js";
import type { PaymentProvider } from "./providers/payments/types.js";
import { createConsoleSmsProvider } from "./providers/sms/console.js";
import type { SmsProvider } from "./providers/sms/types.js";
import { AppError } from "./errors.js";
import { type FulfilmentService, createFulfilmentService } from "./modules/fulfilment/service.js";
import { platformJobs } from "./schedule.js";
import { firstBlockAtOrAfter } from "./chain/block-at.js";
import { type Scheduler, createScheduler } from "./scheduler.js";
import { type Metrics, createMetrics } from "./metrics.js";
import { Sealer } from "./security/crypto.js";

/**
 * The composition of the server's modules: configuration in, services out.
 * Tests build it with in-memory PGlite and their own providers, chain and clock.
 */
export interface Platform {
  config: Config;
  database: Database;
  db: Db;
  clock: () => Date;
  custody: KeyCustody;
  identity: IdentityService;
  kyc: KycService;
  /** Real-name credentials: the platform as an SD-JWT VC issuer, and verification by trusted issuers' credentials. */
  credentials: CredentialsService;
  wallets: WalletService;
  catalog: CatalogService;
  drops: DropsService;
  lottery: LotteryService;
  airdrops: AirdropService;
  collectibles: CollectiblesService;
  ops: OpsService;
  /** Freezes, recoveries and takedowns: recorded first, four eyes where powerful, sent from an outbox. */
  compliance: ComplianceService;
  /** The flash-sale admission gate (closed with the platform). */
  gate: AdmissionGate;
  minting: MintingService;
  payments: PaymentsService;
  paymentProvider: PaymentProvider;
  /** The sandbox provider when it is the one in use (its cashier is served locally). */
  sandboxPayments: SandboxPaymentProvider | null;
  /** Null when no chain is configured or reachable at start; registry writes then wait in the outbox. */
  chain: Chain | null;
  registrySync: RegistrySync | null;
  /** The delivery pipeline; null without a chain (paid orders then wait in the outbox). */
  mintWorker: MintWorker | null;
  /** True when the configured Redis answers; null when none is configured. */
  redisPing: (() => Promise<boolean>) | null;
  fulfilment: FulfilmentService;
  scheduler: Scheduler;
  metrics: Metrics;
}

export interface PlatformOverrides {
  database?: Database;
  clock?: () => Date;
  kycProvider?: KycProvider;
  sms?: SmsProvider;
  chain?: Chain | null;
  custody?: KeyCustody;
  mediaStore?: MediaStore;
  paymentProvider?: PaymentProvider;
  /** Where lottery draws take their anchor: the first block at or after the draw time (the chain's by default). */
  lotteryAnchorAt?: (at: Date) => Promise<ChainAnchor | null>;
  onBackgroundError?: (error: unknown) => void;
}

export function kycProviderFor(config: Config): KycProvider {
  const env = config.env;
  if (env.KYC_PROVIDER === "http") {
    return createHttpKycProvider({
      url: env.KYC_HTTP_URL!,
      appId: env.KYC_HTTP_APP_ID!,
      secret: env.KYC_HTTP_SECRET!,
      timeoutMs: env.KYC_HTTP_TIMEOUT_MS,
      retries: env.KYC_HTTP_RETRIES,
    });
  }
  return createSandboxKycProvider();
}

export function mediaStoreFor(config: Config): MediaStore {
  const env = config.env;
  if (env.MEDIA_STORE === "s3") {
    // loadConfig has refused a missing S3_* setting already.
    return createS3MediaStore({
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET!,
      region: env.S3_REGION!,
      accessKeyId: env.S3_ACCESS_KEY_ID!,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
    });
  }
  return createLocalMediaStore(env.MEDIA_DIR ?? path.join(env.DATA_DIR, "media"));
}

export async function createPlatform(config: Config, overrides: PlatformOverrides = {}): Promise<Platform> {
  const clock = overrides.clock ?? (() => new Date());
  const infrastructure = await openInfrastructure(config, overrides);
  // The mint worker and the scheduler are made after the metrics, which ask them at scrape time.
  let background: Background | null = null;
  const metrics = createMetrics(
    infrastructure.database.db,
    {
      mintDepth: () => background?.mintWorker?.depth() ?? null,
      jobs: () => background?.scheduler.status() ?? [],
    },
    infrastructure.chain === null ? null : () => infrastructure.chain!.provider.getBlockNumber(),
  );
  const services = createServices(config, overrides, infrastructure, metrics, clock);
  background = createBackground(config, overrides, infrastructure, services, metrics, clock);
  return {
    config,
    database: infrastructure.database,
    db: infrastructure.database.db,
    clock,
    custody: infrastructure.custody,
    chain: infrastructure.chain,
    redisPing: infrastructure.redis === null ? null : redisPinger(infrastructure.redis),
    metrics,
    ...services,
    ...background,
  };
}

/** Asks Redis for PONG, giving up after a second. */
function redisPinger(redis: Redis): () => Promise<boolean> {
  return async () => {
    try {
      const answer = await Promise.race([
        redis.ping(),
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error("timeout")), 1000)),
      ]);
      return answer === "PONG";
    } catch {
      return false;
    }
  };
}

interface Infrastructure {
  database: Database;
  custody: KeyCustody;
  chain: Chain | null;
  /** One Redis connection (when configured) for the flash-sale gate and the shared rate limits; the gate closes it. */
  redis: Redis | null;
}

/** The database, key custody, the chain and Redis, as configured (or as a test hands them in). */
async function openInfrastructure(config: Config, overrides: PlatformOverrides): Promise<Infrastructure> {
  const env = config.env;
  const database =
    overrides.database ??
    (await openDatabase({
      url: env.DATABASE_URL,
      pgliteDataDir: path.join(env.DATA_DIR, "pglite"),
      poolSize: env.DATABASE_POOL_SIZE,
      ...(env.DATABASE_MIGRATIONS === undefined ? {} : { migrations: env.DATABASE_MIGRATIONS }),
    }));
  const custody = overrides.custody ?? (await openCustody(config));
  let chain: Chain | null = null;
  if (overrides.chain !== undefined) {
    chain = overrides.chain;
  } else if (env.CHAIN_ENABLED) {
    chain = createChain({
      provider: rpcProvider(env.CHAIN_RPC_URL, env.CHAIN_RPC_TIMEOUT_MS),
      addresses: readDeployment(env.CHAIN_DEPLOYMENT_FILE),
      custody,
      confirmations: env.CHAIN_CONFIRMATIONS,
      gasPrice: env.CHAIN_GAS_PRICE,
      receiptTimeoutMs: env.CHAIN_RECEIPT_TIMEOUT_MS,
    });
  }
  const redis =
    env.REDIS_URL === undefined
      ? null
      : new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  if (redis !== null) {
    // A lost Redis is reported (at most every 30 s) and shows in /readyz; its commands fail and fall back.
    let reportedAt = 0;
    redis.on("error", (error: unknown) => {
      if (Date.now() - reportedAt < 30_000) return;
      reportedAt = Date.now();
      overrides.onBackgroundError?.(error);
    });
  }
  return { database, custody, chain, redis };
}

type Services = Omit<
  Platform,
  "config" | "database" | "db" | "clock" | "custody" | "chain" | "redisPing" | "metrics" | keyof Background
>;

/** The SMS provider the settings name: Alibaba Cloud SMS, or the console (refused in production). */
function smsProviderFor(config: Config): SmsProvider {
  const env = config.env;
  if (env.SMS_PROVIDER === "aliyun")
    return createAliyunSmsProvider({
      accessKeyId: env.ALIYUN_SMS_ACCESS_KEY_ID!,
      accessKeySecret: env.ALIYUN_SMS_ACCESS_KEY_SECRET!,
      signName: env.ALIYUN_SMS_SIGN_NAME!,
      templateCode: env.ALIYUN_SMS_TEMPLATE_CODE!,
      ...(env.ALIYUN_SMS_ENDPOINT ? { endpoint: env.ALIYUN_SMS_ENDPOINT } : {}),
    });
  return createConsoleSmsProvider({
    // Outside production the console SMS also keeps an outbox file for local scripts.
    ...(env.NODE_ENV === "production" ? {} : { outboxFile: path.join(env.DATA_DIR, "sms-outbox.log") }),
  });
}

/** Session lifetimes by role: collectors long, issuer staff and operators short (absolute and idle). */
function sessionPolicyOf(env: Config["env"]) {
  return {
    collector: { lifetimeMs: env.SESSION_TTL_DAYS * 86_400_000, idleMs: env.SESSION_IDLE_MINUTES * 60_000 },
    staff: { lifetimeMs: env.SESSION_STAFF_TTL_HOURS * 3_600_000, idleMs: env.SESSION_STAFF_IDLE_MINUTES * 60_000 },
  };
}

/** Airdrops, with their list-check limits from the settings. */
function createAirdrops(
  env: Config["env"],
  parts: Omit<AirdropDependencies, "checksPerHour" | "refusedEntriesPerDay">,
): AirdropService {
  return createAirdropService({
    ...parts,
    checksPerHour: env.AIRDROP_CHECKS_PER_HOUR,
    refusedEntriesPerDay: env.AIRDROP_REFUSED_ENTRIES_PER_DAY,
  });
}

/** Every domain module, each handed only the other modules' services it talks to. */
function createServices(
  config: Config,
  overrides: PlatformOverrides,
  { database, custody, chain, redis }: Infrastructure,
  metrics: Metrics,
  clock: () => Date,
): Services {
  const env = config.env;
  const sealer = new Sealer(config.secrets.piiKeys, config.secrets.piiActiveKeyId);
  const wallets = createWalletService(custody);
  const limiters = redis === null ? memoryLimiters : redisLimiters(redis);
  const identity = createIdentityService({
    sms: overrides.sms ?? smsProviderFor(config),
    sealer,
    lookupPepper: config.secrets.lookupPepper,
    clock,
    otpTtlSeconds: env.OTP_TTL_SECONDS,
    otpMaxFailures: env.OTP_MAX_FAILURES,
    otpLockMinutes: env.OTP_LOCK_MINUTES,
    otpResendSeconds: env.OTP_RESEND_SECONDS,
    otpDailyLimitPerPhone: env.OTP_DAILY_LIMIT_PER_PHONE,
    otpHourlyLimitPerIp: env.OTP_HOURLY_LIMIT_PER_IP,
    loginAttemptsPerIp15Min: env.LOGIN_ATTEMPTS_PER_IP_15MIN,
    limiters,
    sessionPolicy: sessionPolicyOf(env),
    stepUpWindowMinutes: env.STEP_UP_WINDOW_MINUTES,
  });

  const kyc = createKycService({
    provider: overrides.kycProvider ?? kycProviderFor(config),
    sealer,
    identityPepper: config.secrets.identityPepper,
    wallets,
    minAge: env.KYC_MIN_AGE,
    refusedAttemptsPerDay: env.KYC_REFUSED_ATTEMPTS_PER_DAY,
    validityDays: env.KYC_VALIDITY_DAYS,
    retentionYears: env.PII_RETENTION_YEARS,
    clock,
  });
  const credentials = credentialsFor(config, { kyc, clock });
  // The catalog tells the drops module when a collection is published; the drops module reads the catalog.
  const catalog = createCatalogService({
    identity,
    custody,
    store: overrides.mediaStore ?? mediaStoreFor(config),
    chain,
    clock,
    maxMediaBytes: env.MEDIA_MAX_BYTES,
    minLockDays: env.COLLECTION_MIN_LOCK_DAYS,
    minRegiftDays: env.COLLECTION_MIN_REGIFT_DAYS,
    publicOrigin: env.PUBLIC_ORIGIN,
    onPublished: (tx, collection) => drops.allocate(tx, collection.id, collection.editionSize),
  });
  const lottery = createLotteryService({
    catalog,
    kyc,
    sealer,
    clock,
    anchorAt:
      overrides.lotteryAnchorAt ??
      (async (at) => {
        if (chain === null) throw new AppError("collection.chainUnavailable");
        return firstBlockAtOrAfter(chain.provider, at);
      }),
  });
  const gate = redis === null ? createMemoryGate() : createRedisGate(redis);
  const drops = createDropsService({
    gate,
    catalog,
    kyc,
    clock,
    buyerCondition: lottery.buyerCondition,
    onReservations: (path, attempts) => metrics.reservations.inc({ path }, attempts),
    paymentWindowMinutes: env.PAYMENT_WINDOW_MINUTES,
    reserveAttemptsPerMinute: env.RESERVE_ATTEMPTS_PER_MINUTE,
    limiters,
  });
  const paymentProvider = overrides.paymentProvider ?? paymentProviderFor(config, clock);
  const sandboxPayments = paymentProvider.name === "sandbox" ? (paymentProvider as SandboxPaymentProvider) : null;
  const minting = createMintingService();
  const airdrops = createAirdrops(env, { catalog, identity, kyc, wallets, minting, clock, limiters });
  const payments = createPaymentsService({
    provider: paymentProvider,
    drops,
    wallets,
    minting,
    clock,
    publicOrigin: env.PUBLIC_ORIGIN,
    onAlert: (reason) => metrics.paymentAlerts.inc({ reason }),
  });

  const collectibles = createCollectiblesService({
    chain,
    identity,
    kyc,
    wallets,
    clock,
    giftDailyCap: env.GIFT_DAILY_CAP,
    databaseKind: database.kind,
    limiters,
  });
  const parts = { chain, wallets, catalog, collectibles, drops, minting, payments, identity, kyc, clock };
  const { compliance, ops } = createOperatorServices(parts);
  return {
    identity,
    kyc,
    credentials,
    wallets,
    catalog,
    drops,
    lottery,
    airdrops,
    collectibles,
    ops,
    compliance,
    gate,
    minting,
    payments,
    paymentProvider,
    sandboxPayments,
  };
}

/** The compliance outbox (freezes, recoveries, takedowns) and the operators' tools built on it. */
function createOperatorServices(parts: {
  chain: Chain | null;
  wallets: WalletService;
  catalog: CatalogService;
  collectibles: CollectiblesService;
  drops: DropsService;
  minting: MintingService;
  payments: PaymentsService;
  identity: IdentityService;
  kyc: KycService;
  clock: () => Date;
}) {
  const compliance = createComplianceService(parts);
  const { chain, wallets, catalog, identity, kyc, collectibles, clock } = parts;
  const ops = createOpsService({ chain, wallets, catalog, identity, kyc, collectibles, compliance, clock });
  return { compliance, ops };
}

/** The payment provider the configuration names (loadConfig has refused a missing setting already). */
export function paymentProviderFor(config: Config, clock: () => Date): PaymentProvider {
  const env = config.env;
  return env.PAYMENT_PROVIDER === "alipay"
    ? createAlipayPaymentProvider({
        appId: env.ALIPAY_APP_ID!,
        ...(env.ALIPAY_SELLER_ID === undefined ? {} : { sellerId: env.ALIPAY_SELLER_ID }),
        privateKey: env.ALIPAY_PRIVATE_KEY!,
        alipayPublicKey: env.ALIPAY_PUBLIC_KEY!,
        ...(env.ALIPAY_GATEWAY ? { gateway: env.ALIPAY_GATEWAY } : {}),
      })
    : env.PAYMENT_PROVIDER === "wechatpay"
      ? createWechatpayPaymentProvider({
          appId: env.WECHATPAY_APP_ID!,
          mchId: env.WECHATPAY_MCH_ID!,
          mchSerial: env.WECHATPAY_MCH_SERIAL!,
          privateKey: env.WECHATPAY_PRIVATE_KEY!,
          apiV3Key: env.WECHATPAY_API_V3_KEY!,
          platformPublicKey: env.WECHATPAY_PLATFORM_PUBLIC_KEY!,
          platformPublicKeyId: env.WECHATPAY_PLATFORM_PUBLIC_KEY_ID!,
          // Refunds notify the same endpoint as payments; the provider tells them apart.
          refundNotifyUrl: `${env.PUBLIC_ORIGIN}/pay/notify/wechatpay`,
          ...(env.WECHATPAY_GATEWAY ? { gateway: env.WECHATPAY_GATEWAY } : {}),
        })
      : createSandboxPaymentProvider({ now: clock, enforceExpiry: true });
}

interface Background {
  /** The back half of a purchase: what planned, landed and parked mint jobs mean for orders and money. */
  fulfilment: FulfilmentService;
  /** The delivery pipeline; null without a chain (paid orders then wait in the outbox). */
  mintWorker: MintWorker | null;
  /** Null when no chain is configured or reachable at start; registry writes then wait in the outbox. */
  registrySync: RegistrySync | null;
  /** Every periodic job (mint rounds, expiry, refund resends, registry sync, PII purge, reconciliation). */
  scheduler: Scheduler;
}

/** The mint worker, the registry sync and the one scheduler that runs them and every other periodic job. */
function createBackground(
  config: Config,
  overrides: PlatformOverrides,
  { database, chain }: Infrastructure,
  services: Services,
  metrics: Metrics,
  clock: () => Date,
): Background {
  const onError = (error: unknown) => overrides.onBackgroundError?.(error);
  const fulfilment = createFulfilmentService({
    drops: services.drops,
    collectibles: services.collectibles,
    payments: services.payments,
    onRound: (round) => {
      metrics.mintedTokens.inc(round.mintedTokens);
      if (round.failed > 0) metrics.mintFailures.inc(round.failed);
    },
  });
  const mintWorker =
    chain === null
      ? null
      : createMintWorker({
          db: database.db,
          chain,
          clock,
          batchSize: config.env.MINT_BATCH_SIZE,
          pipelineDepth: config.env.MINT_PIPELINE_DEPTH,
          contractOf: services.catalog.contractOf,
          ...fulfilment.workerHooks,
          onError,
        });
  const registrySync =
    chain === null ? null : createRegistrySync({ db: database.db, chain, clock, onError: (error) => onError(error) });
  const scheduler = createScheduler({
    jobs: platformJobs({
      config,
      db: database.db,
      clock,
      payments: services.payments,
      kyc: services.kyc,
      lottery: services.lottery,
      compliance: chain === null ? null : services.compliance,
      mintWorker,
      registrySync,
      statements: services.paymentProvider.statement !== undefined,
    }),
    exclusive: database.exclusive,
    clock,
    onError,
  });
  return { fulfilment, mintWorker, registrySync, scheduler };
}
