import path from "node:path";

import { Redis } from "ioredis";

import { type Chain, createChain, readDeployment, rpcProvider } from "./chain/client.js";
import type { Config } from "./config.js";
import { type Database, type Db, openDatabase } from "./db/client.js";
import { type MediaStore, createLocalMediaStore, createS3MediaStore } from "./modules/catalog/media.js";
import { type CatalogService, createCatalogService } from "./modules/catalog/service.js";
import { type AirdropService, createAirdropService } from "./modules/drops/airdrop.js";
import { type LotteryService, createLotteryService } from "./modules/drops/lottery.js";
import { type DropsService, createDropsService } from "./modules/drops/service.js";
import { type CollectiblesService, createCollectiblesService } from "./modules/collectibles/service.js";
import { type IdentityService, createIdentityService } from "./modules/identity/service.js";
import { type MintingService, createMintingService } from "./modules/minting/service.js";
import { type MintWorker, createMintWorker } from "./modules/minting/worker.js";
import { type AdmissionGate, createMemoryGate, createRedisGate } from "./modules/drops/gate.js";
import { memoryLimiters, redisLimiters } from "./security/rate-limits.js";
import { type OpsService, createOpsService } from "./modules/ops/service.js";
import { type PaymentsService, createPaymentsService } from "./modules/payments/service.js";
import { type RegistrySync, createRegistrySync } from "./modules/kyc/registry-sync.js";
import { type KycService, createKycService } from "./modules/kyc/service.js";
import { type KeyCustody, createSeedCustody } from "./modules/wallets/custody.js";
import { type WalletService, createWalletService } from "./modules/wallets/service.js";
import { createHttpKycProvider } from "./providers/kyc/http.js";
import { createSandboxKycProvider } from "./providers/kyc/sandbox.js";
import type { KycProvider } from "./providers/kyc/types.js";
import { createAlipayPaymentProvider } from "./providers/payments/alipay.js";
import { createWechatpayPaymentProvider } from "./providers/payments/wechatpay.js";
import { type SandboxPaymentProvider, createSandboxPaymentProvider } from "./providers/payments/sandbox.js";
import type { PaymentProvider } from "./providers/payments/types.js";
import { createConsoleSmsProvider } from "./providers/sms/console.js";
import type { SmsProvider } from "./providers/sms/types.js";
import { AppError } from "./errors.js";
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
  wallets: WalletService;
  catalog: CatalogService;
  drops: DropsService;
  lottery: LotteryService;
  airdrops: AirdropService;
  collectibles: CollectiblesService;
  ops: OpsService;
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
  /** Where lottery draws take their unpredictable anchor (the chain's latest block hash by default). */
  lotteryAnchor?: () => Promise<string>;
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
  const env = config.env;
  const clock = overrides.clock ?? (() => new Date());
  const database =
    overrides.database ??
    (await openDatabase({
      url: env.DATABASE_URL,
      pgliteDataDir: path.join(env.DATA_DIR, "pglite"),
      poolSize: env.DATABASE_POOL_SIZE,
    }));
  const sealer = new Sealer(config.secrets.piiKeys, config.secrets.piiActiveKeyId);
  const custody = overrides.custody ?? createSeedCustody(config.secrets.walletMnemonic);
  const wallets = createWalletService(custody);

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

  // One Redis connection (when configured) for the flash-sale gate and the shared rate limits; the gate closes it.
  const redis =
    env.REDIS_URL === undefined
      ? null
      : new Redis(env.REDIS_URL, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  const limiters = redis === null ? memoryLimiters : redisLimiters(redis);
  const identity = createIdentityService({
    sms:
      overrides.sms ??
      createConsoleSmsProvider({
        // Outside production the console SMS also keeps an outbox file for local scripts.
        ...(env.NODE_ENV === "production" ? {} : { outboxFile: path.join(env.DATA_DIR, "sms-outbox.log") }),
      }),
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
    sessionTtlDays: env.SESSION_TTL_DAYS,
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
    clock,
    anchor:
      overrides.lotteryAnchor ??
      (async () => {
        if (chain === null) throw new AppError("collection.chainUnavailable");
        const block = await chain.provider.getBlock("latest");
        return block!.hash!;
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
  });
  const paymentProvider =
    overrides.paymentProvider ??
    (env.PAYMENT_PROVIDER === "alipay"
      ? createAlipayPaymentProvider({
          appId: env.ALIPAY_APP_ID!,
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
        : createSandboxPaymentProvider({ now: clock, enforceExpiry: true }));
  const sandboxPayments = paymentProvider.name === "sandbox" ? (paymentProvider as SandboxPaymentProvider) : null;
  const minting = createMintingService();
  const airdrops = createAirdropService({ catalog, identity, kyc, wallets, minting, clock });
  const payments = createPaymentsService({
    provider: paymentProvider,
    drops,
    wallets,
    minting,
    clock,
    publicOrigin: env.PUBLIC_ORIGIN,
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
  const ops = createOpsService({ chain, wallets, catalog, identity, clock });
  // The mint worker is created below; the gauge asks it at scrape time.
  const metrics = createMetrics(
    database.db,
    { mintDepth: () => mintWorker?.depth() ?? null },
    chain === null ? null : () => chain.provider.getBlockNumber(),
  );
  // Refunds of parked jobs are asked of the provider after their transaction commits.
  const refundsToStart: Parameters<PaymentsService["startRefund"]>[0][] = [];
  const mintWorker =
    chain === null
      ? null
      : createMintWorker({
          db: database.db,
          chain,
          clock,
          batchSize: env.MINT_BATCH_SIZE,
          contractOf: catalog.contractOf,
          onPlanned: drops.markMinting,
          onMinted: async (tx, minted, txHash) => {
            const buyers = await drops.markMinted(
              tx,
              minted.map((m) => m.orderId),
              txHash ?? "",
            );
            await collectibles.recordMinted(
              tx,
              minted
                .map((m) => ({ ...m, ownerUserId: buyers.get(m.orderId)! }))
                .filter((m) => m.ownerUserId !== undefined),
              txHash,
            );
          },
          onParked: async (tx, orderId, reason) => {
            await drops.markUndeliverable(tx, orderId, reason);
            const refund = await payments.requestRefundForFailedDelivery(tx, orderId, reason);
            if (refund !== null) refundsToStart.push(refund);
          },
          onRound: (round) => {
            metrics.mintedTokens.inc(round.mintedTokens);
            if (round.failed > 0) metrics.mintFailures.inc(round.failed);
          },
          afterRound: async () => {
            for (const refund of refundsToStart.splice(0)) await payments.startRefund(refund);
          },
          onError: (error) => overrides.onBackgroundError?.(error),
        });

  return {
    config,
    database,
    db: database.db,
    clock,
    custody,
    wallets,
    chain,
    mintWorker,
    metrics,
    registrySync:
      chain === null
        ? null
        : createRegistrySync({
            db: database.db,
            chain,
            clock,
            onError: (error) => overrides.onBackgroundError?.(error),
          }),
    identity,
    catalog,
    drops,
    lottery,
    airdrops,
    collectibles,
    ops,
    gate,
    minting,
    payments,
    paymentProvider,
    sandboxPayments,
    kyc,
  };
}
