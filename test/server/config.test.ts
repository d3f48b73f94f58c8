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
    expect(() => testConfig({ PAYMENT_PROVIDER: "wechatpay" })).toThrowError(/PAYMENT_PROVIDER/);
    expect(
      testConfig({ PAYMENT_PROVIDER: "alipay", ALIPAY_APP_ID: "a", ALIPAY_PRIVATE_KEY: "k", ALIPAY_PUBLIC_KEY: "p" })
        .env.PAYMENT_PROVIDER,
    ).toBe("alipay");
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
        "PAYMENT_PROVIDER: the sandbox cashier pays any order; set a live provider in production",
      ]);
    }
  });

  it("generates development secrets once and reuses them", () => {
    const dataDir = testConfig().env.DATA_DIR;
    const first = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    const second = loadConfig({ NODE_ENV: "development", DATA_DIR: dataDir });
    expect(first.secretsSource).toBe("development-file");
    expect(second.secrets.walletMnemonic).toBe(first.secrets.walletMnemonic);
    expect(second.secrets.identityPepper).toBe(first.secrets.identityPepper);
  });
});
