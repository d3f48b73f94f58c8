import { generateKeyPairSync } from "node:crypto";

import { describe, expect, it } from "vitest";

import { ConfigError, loadConfig } from "../../server/config.js";
import { testConfig } from "./helpers.js";

describe("configuration", () => {
  it("applies the documented defaults", () => {
    const { env } = testConfig();
    expect(env.PORT).toBe(3000);
    expect(env.KYC_MIN_AGE).toBe(18);
    expect(env.OTP_TTL_SECONDS).toBe(300);
    expect(env.OTP_MAX_FAILURES).toBe(5);
    expect(env.OTP_LOCK_MINUTES).toBe(15);
    expect(env.CHAIN_GAS_PRICE).toBe(0n);
  });

  it("refuses a bad setting and names it", () => {
    expect(() => testConfig({ PORT: "70000" })).toThrowError(/PORT/);
    expect(() => testConfig({ DATABASE_URL: "mysql://x" })).toThrowError(/DATABASE_URL: must be a postgres/);
    expect(() => testConfig({ PII_KEYS: "k1:short" })).toThrowError(/PII_KEYS/);
    expect(() => testConfig({ PII_ACTIVE_KEY_ID: "nope" })).toThrowError(/PII_ACTIVE_KEY_ID/);
    expect(() => testConfig({ KYC_PROVIDER: "http" })).toThrowError(/KYC_HTTP_URL: required when KYC_PROVIDER=http/);
    expect(() => testConfig({ PAYMENT_PROVIDER: "alipay", ALIPAY_APP_ID: "2021" })).toThrowError(
      /ALIPAY_PRIVATE_KEY: required when PAYMENT_PROVIDER=alipay/,
    );
    expect(() => testConfig({ PAYMENT_PROVIDER: "wechatpay" })).toThrowError(
      /WECHATPAY_APP_ID: required when PAYMENT_PROVIDER=wechatpay/,
    );
    expect(() => testConfig({ PAYMENT_PROVIDER: "paypal" })).toThrowError(/PAYMENT_PROVIDER/);
    expect(
      testConfig({ PAYMENT_PROVIDER: "alipay", ALIPAY_APP_ID: "a", ALIPAY_PRIVATE_KEY: "k", ALIPAY_PUBLIC_KEY: "p" })
        .env.PAYMENT_PROVIDER,
    ).toBe("alipay");
  });

  it("accepts a complete WeChat Pay setting and names each missing or malformed part", () => {
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const wechatpay = {
      PAYMENT_PROVIDER: "wechatpay",
      WECHATPAY_APP_ID: "wx8888888888888888",
      WECHATPAY_MCH_ID: "1230000109",
      WECHATPAY_MCH_SERIAL: "444F4864EA9B34415C2E8C9A0A5C2E1E29B1D8C0",
      WECHATPAY_PRIVATE_KEY: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      WECHATPAY_API_V3_KEY: "0123456789abcdefghijABCDEFGHIJ01",
      // An env file may carry a PEM on one line with literal \n.
      WECHATPAY_PLATFORM_PUBLIC_KEY: publicKey.export({ type: "spki", format: "pem" }).toString().replace(/\n/g, "\\n"),
      WECHATPAY_PLATFORM_PUBLIC_KEY_ID: "PUB_KEY_ID_0112300001092026120200000000000001",
    };
    const { env } = testConfig(wechatpay);
    expect(env.PAYMENT_PROVIDER).toBe("wechatpay");
    expect(env.WECHATPAY_PLATFORM_PUBLIC_KEY).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(env.WECHATPAY_GATEWAY).toBeUndefined();

    const { WECHATPAY_PLATFORM_PUBLIC_KEY_ID: _id, ...withoutId } = wechatpay;
    expect(() => testConfig(withoutId)).toThrowError(
      /WECHATPAY_PLATFORM_PUBLIC_KEY_ID: required when PAYMENT_PROVIDER=wechatpay/,
    );
    expect(() => testConfig({ ...wechatpay, WECHATPAY_API_V3_KEY: "too-short" })).toThrowError(
      /WECHATPAY_API_V3_KEY: must be exactly 32 bytes/,
    );
    expect(() => testConfig({ ...wechatpay, WECHATPAY_PRIVATE_KEY: "-----BEGIN PRIVATE KEY-----\nnope" })).toThrowError(
      /WECHATPAY_PRIVATE_KEY: must be a PEM private key/,
    );
    // The public key where the private key belongs is refused, and no key text appears in the message.
    try {
      testConfig({ ...wechatpay, WECHATPAY_PRIVATE_KEY: wechatpay.WECHATPAY_PLATFORM_PUBLIC_KEY });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems.join("\n")).toMatch(/WECHATPAY_PRIVATE_KEY/);
      expect((error as ConfigError).message).not.toContain("MII");
    }
    expect(() => testConfig({ ...wechatpay, WECHATPAY_GATEWAY: "not a url" })).toThrowError(/WECHATPAY_GATEWAY/);
  });

  it("requires every secret from the environment in production", () => {
    try {
      loadConfig({ NODE_ENV: "production" });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([
        "PII_KEYS: required in production",
        "PII_ACTIVE_KEY_ID: required in production",
        "IDENTITY_PEPPER: required in production",
        "LOOKUP_PEPPER: required in production",
        "WALLET_MNEMONIC: required in production",
        "CREDENTIAL_SIGNING_KEYS: required in production",
        "CHAIN_ID: required in production (the permissioned chain's id)",
        "CHAIN_DEPLOYMENT_FILE: required in production (the Ignition deployment of your chain)",
        "KYC_PROVIDER: the sandbox verifies every well-formed identity; set KYC_PROVIDER=http in production",
        "PAYMENT_PROVIDER: the sandbox cashier pays any order; set a live provider in production",
        "SMS_PROVIDER: the console prints every login code; set SMS_PROVIDER=aliyun in production",
        "ROLE_SIGNER: production keeps the role keys out of the server; set ROLE_SIGNER=web3signer " +
          "(with WEB3SIGNER_URL and ROLE_ACCOUNT_*), or ALLOW_MNEMONIC_ROLE_KEYS=true to accept role keys " +
          "derived from WALLET_MNEMONIC",
      ]);
    }
  });

  it("verifies the schema instead of migrating it in production, unless told otherwise", () => {
    expect(testConfig().env.DATABASE_MIGRATIONS).toBe("apply");
    expect(testConfig({ DATABASE_MIGRATIONS: "verify" }).env.DATABASE_MIGRATIONS).toBe("verify");
    expect(() => testConfig({ DATABASE_MIGRATIONS: "sometimes" })).toThrowError(/DATABASE_MIGRATIONS/);
    expect(() => testConfig({ SERVER_ROLE: "cron" })).toThrowError(/SERVER_ROLE/);
  });

  it("generates development secrets once and reuses them", () => {
    const dataDir = testConfig().env.DATA_DIR;
    const first = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    const second = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    expect(first.secretsSource).toBe("development-file");
    expect(second.secrets.walletMnemonic).toBe(first.secrets.walletMnemonic);
    expect(second.secrets.identityPepper).toBe(first.secrets.identityPepper);
    expect([...second.secrets.credentialKeys.keys()]).toEqual(["dev1"]);
    expect(second.secrets.credentialKeys.get("dev1")!.equals(first.secrets.credentialKeys.get("dev1")!)).toBe(true);
  });
});
