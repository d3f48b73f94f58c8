import type { Redis } from "ioredis";
import { type RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from "rate-limiter-flexible";

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
