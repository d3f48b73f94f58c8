import { randomBytes, randomInt } from "node:crypto";

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  newPhone,
  redisAnswers,
} from "./helpers.js";

const REDIS_URL = "redis://127.0.0.1:6379/10";

const redisUp = await redisAnswers(REDIS_URL);

/** A fresh address each time, so runs never share a count. */
const anAddress = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

describe.skipIf(!redisUp)("rate limits shared by server instances through Redis", () => {
  let first: TestPlatform;
  let second: TestPlatform;

  beforeAll(async () => {
    // Two instances of one deployment (the same secrets; each with its own database here, the limits live in
    // Redis only).
    const env = {
      REDIS_URL,
      OTP_RESEND_SECONDS: "60",
      OTP_HOURLY_LIMIT_PER_IP: "3",
      LOOKUP_PEPPER: randomBytes(32).toString("hex"),
    };
    first = await createTestPlatform(databasesUnderTest()[0]!, { env });
    second = await createTestPlatform(databasesUnderTest()[0]!, { env });
  });
  afterAll(async () => {
    await first.close();
    await second.close();
  });

  const requestCode = async (test: TestPlatform, phone: string, ip: string) =>
    (await callerFor(test.platform, { ip })).caller.auth.requestCode({ phone });

  it("refuses a second login code to one number within the resend interval, whichever instance is asked", async () => {
    const phone = newPhone();
    await requestCode(first, phone, anAddress());
    await expectAppError(requestCode(second, phone, anAddress()), "auth.rateLimited", "TOO_MANY_REQUESTS");
    expect(first.codes.has(phone)).toBe(true);
    expect(second.codes.has(phone)).toBe(false);
  });

  it("counts one address's code requests across instances against one hourly limit", async () => {
    const ip = anAddress();
    await requestCode(first, newPhone(), ip);
    await requestCode(second, newPhone(), ip);
    await requestCode(first, newPhone(), ip);
    await expectAppError(requestCode(second, newPhone(), ip), "auth.rateLimited", "TOO_MANY_REQUESTS");
    await expectAppError(requestCode(first, newPhone(), ip), "auth.rateLimited", "TOO_MANY_REQUESTS");
  });
});

describe("rate limits without Redis", () => {
  it("are counted by each instance on its own (the embedded default)", async () => {
    const env = { OTP_RESEND_SECONDS: "60" };
    const one = await createTestPlatform(databasesUnderTest()[0]!, { env });
    const other = await createTestPlatform(databasesUnderTest()[0]!, { env });
    try {
      const phone = newPhone();
      await requestCode(one, phone);
      await expectAppError(requestCode(one, phone), "auth.rateLimited", "TOO_MANY_REQUESTS");
      await requestCode(other, phone); // another instance, its own memory
      expect(other.codes.has(phone)).toBe(true);
    } finally {
      await one.close();
      await other.close();
    }
  });

  async function requestCode(test: TestPlatform, phone: string) {
    return (await callerFor(test.platform, { ip: anAddress() })).caller.auth.requestCode({ phone });
  }
});
