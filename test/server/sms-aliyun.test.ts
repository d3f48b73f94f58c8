import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { createAliyunSmsProvider } from "../../server/providers/sms/aliyun.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  testConfig,
} from "./helpers.js";
import { type AliyunSmsStandIn, startAliyunSmsStandIn } from "./stand-ins/aliyun-sms.js";

/**
 * Production refuses the console SMS (it prints every login code); the Alibaba Cloud SMS adapter signs each
 * SendSms request, checked by an in-process stand-in that verifies the signature as the service does.
 */

const ACCESS_KEY_ID = "LTAI5tStandInKeyId0001";
const ACCESS_KEY_SECRET = "stand-in-secret-0123456789abcdef";

describe("SMS provider settings", () => {
  it("refuses SMS_PROVIDER=console in production, and requires the Alibaba Cloud settings for aliyun", () => {
    expect(() => testConfig({ NODE_ENV: "production" })).toThrowError(
      /SMS_PROVIDER: the console prints every login code; set SMS_PROVIDER=aliyun in production/,
    );
    expect(() => testConfig({ SMS_PROVIDER: "aliyun", ALIYUN_SMS_ACCESS_KEY_ID: "x" })).toThrowError(
      /ALIYUN_SMS_ACCESS_KEY_SECRET: required when SMS_PROVIDER=aliyun/,
    );
    expect(() => testConfig({ NODE_ENV: "production", SMS_PROVIDER: "aliyun" })).not.toThrowError(/SMS_PROVIDER:/);
  });
});

describe("Alibaba Cloud SMS adapter against a signature-checking stand-in", () => {
  let standIn: AliyunSmsStandIn;
  beforeAll(async () => {
    standIn = await startAliyunSmsStandIn({ accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET });
  });
  afterAll(() => standIn.close());

  const provider = (secret = ACCESS_KEY_SECRET, signName = "数藏") =>
    createAliyunSmsProvider({
      accessKeyId: ACCESS_KEY_ID,
      accessKeySecret: secret,
      signName,
      templateCode: "SMS_123456789",
      endpoint: standIn.url,
    });

  it("sends a signed SendSms the service accepts, the code only in TemplateParam", async () => {
    // A signature name outside ASCII and spaces exercise the RFC 3986 encoding.
    await provider(ACCESS_KEY_SECRET, "数藏 平台(测试)*!'~").sendLoginCode("13912345678", "123456", 5);
    expect(standIn.answers.at(-1)).toBe("OK");
    expect(standIn.messages.at(-1)).toEqual({
      phone: "13912345678",
      signName: "数藏 平台(测试)*!'~",
      templateCode: "SMS_123456789",
      params: { code: "123456" },
    });
  });

  it("is refused with another secret, and says so", async () => {
    await expect(provider("not-the-secret").sendLoginCode("13912345678", "654321", 5)).rejects.toMatchObject({
      code: "SignatureDoesNotMatch",
    });
    expect(standIn.answers.at(-1)).toBe("SignatureDoesNotMatch");
  });
});

for (const database of databasesUnderTest()) {
  describe(`login codes through Alibaba Cloud SMS (${database.name})`, () => {
    let standIn: AliyunSmsStandIn;
    let test: TestPlatform;
    beforeAll(async () => {
      standIn = await startAliyunSmsStandIn({ accessKeyId: ACCESS_KEY_ID, accessKeySecret: ACCESS_KEY_SECRET });
      test = await createTestPlatform(database, {
        env: {
          SMS_PROVIDER: "aliyun",
          ALIYUN_SMS_ACCESS_KEY_ID: ACCESS_KEY_ID,
          ALIYUN_SMS_ACCESS_KEY_SECRET: ACCESS_KEY_SECRET,
          ALIYUN_SMS_SIGN_NAME: "数藏",
          ALIYUN_SMS_TEMPLATE_CODE: "SMS_123456789",
          ALIYUN_SMS_ENDPOINT: standIn.url,
        },
        overrides: { sms: undefined } as never,
      });
    });
    afterAll(async () => {
      await test?.close();
      await standIn?.close();
    });

    it("logs in with the code the stand-in received", async () => {
      expect(test.platform.identity).toBeDefined();
      const { caller, jar } = await callerFor(test.platform);
      await caller.auth.requestCode({ phone: "13987654321" });
      const sent = standIn.messages.find((m) => m.phone === "13987654321")!;
      expect(sent.params.code).toMatch(/^\d{6}$/);
      const user = await caller.auth.login({ phone: "13987654321", code: sent.params.code! });
      expect(user.phoneMasked).toBe("139****4321");
      expect(jar.session).toBeTruthy();
    });

    it("answers a refused message with a clear 'try again later'", async () => {
      await standIn.close();
      const { caller } = await callerFor(test.platform);
      await expectAppError(
        caller.auth.requestCode({ phone: "13987650000" }),
        "auth.smsUnavailable",
        "SERVICE_UNAVAILABLE",
      );
    });
  });
}
