import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";

import { AppError } from "../errors.js";

/**
 * Where the rate limits (login codes per number and per address, login
 * attempts, gift recipient lookups) keep their counts: this process's memory
 * by default, or Redis when `REDIS_URL` is set, so that every server instance
 * counts against the same limit instead of multiplying it. Should Redis stop
 * answering, each instance falls back to counting in its own memory.
 */
export interface LimitOptions {
  keyPrefix: string;
  points: number;
  duration: number;
}

export type Limiters = (options: LimitOptions) => RateLimiterAbstract;

export const memoryLimiters: Limiters = (options) => new RateLimiterMemory(options);

export function redisLimiters(client: Redis): Limiters {
  return (options) =>
    new RateLimiterRedis({
      ...options,
      keyPrefix: `shuzang:limit:${options.keyPrefix}`,
      storeClient: client,
      insuranceLimiter: new RateLimiterMemory(options),
    });
}

/** Takes `points` from `key`'s allowance, or refuses with `auth.rateLimited` and when to come back. */
export async function consumeOrRateLimited(limiter: RateLimiterAbstract, key: string, points = 1): Promise<void> {
  try {
    await limiter.consume(key, points);
  } catch (error) {
    if (error instanceof RateLimiterRes)
      throw new AppError("auth.rateLimited", { retryAfterSeconds: Math.ceil(error.msBeforeNext / 1000) });
    throw error;
  }
}
