import { afterAll, beforeAll, describe, it } from "vitest";

import { createPlatform } from "../../server/platform.js";
import { createConsoleSmsProvider } from "../../server/providers/sms/console.js";
import {
  type TestPlatform,
  callerFor,
  createTestPlatform,
  databasesUnderTest,
  expectAppError,
  publishedCollection,
  redisAnswers,
  verifiedCollector,
} from "./helpers.js";

/**
 * The reservation-attempt limit (RESERVE_ATTEMPTS_PER_MINUTE) is one limit per
 * person however many server instances they reach: with REDIS_URL every
 * instance counts against the same counter.
 */
const REDIS_URL = process.env.TEST_REDIS_URL_LIMITS ?? "redis://127.0.0.1:6379/12";
const withRedis = await redisAnswers(REDIS_URL, { flush: true });
const database = databasesUnderTest().find((d) => d.name === "postgres");

describe.skipIf(!withRedis || database === undefined)("reservation attempts across instances (postgres, redis)", () => {
  let first: TestPlatform;
  let second: Awaited<ReturnType<typeof createPlatform>>;
  const env = { REDIS_URL, RESERVE_ATTEMPTS_PER_MINUTE: "2" };

  beforeAll(async () => {
    first = await createTestPlatform(database!, { env });
    // A second instance: the same database and Redis, its own memory.
    second = await createPlatform(first.platform.config, {
      database: { ...first.platform.database, close: async () => undefined },
      clock: first.clock.now,
      sms: createConsoleSmsProvider({ onSend: () => undefined }),
      chain: null,
    });
  });
  afterAll(async () => {
    await second?.scheduler.stop();
    await second?.gate.close();
    await first?.close();
    await redisAnswers(REDIS_URL, { flush: true });
  });

  it("refuses the third attempt of a minute on whichever instance it reaches", async () => {
    const collection = await publishedCollection(first, { editionSize: 10, perPersonLimit: 5 });
    const person = await verifiedCollector(first);
    const { caller: onSecond } = await callerFor(second, { token: person.token });
    const attempt = (n: number) => ({ collectionId: collection.id, quantity: 1, idempotencyKey: `limit-key-${n}` });

    await person.caller.drops.reserve(attempt(1));
    await onSecond.drops.reserve(attempt(2));
    await expectAppError(person.caller.drops.reserve(attempt(3)), "auth.rateLimited");
    await expectAppError(onSecond.drops.reserve(attempt(4)), "auth.rateLimited");
    // Someone else still has their own allowance.
    const other = await verifiedCollector(first);
    const { caller: otherOnSecond } = await callerFor(second, { token: other.token });
    await otherOnSecond.drops.reserve(attempt(5));
  });
});
