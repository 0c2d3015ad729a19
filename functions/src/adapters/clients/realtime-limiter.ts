import { failOpen } from '#adapters/best-effort.ts';
import { RedisWindowCounters } from '#adapters/redis-window-counters.ts';
import { MemoryWindowCounters, SlidingWindowLimiter } from '#adapters/sliding-window-limiter.ts';
import { config } from '#config';
import type { RateLimitDeps } from '#domain/rate-limits.ts';
import { systemClock } from '#ports/clock.ts';
import type { RateLimiter } from '#ports/rate-limiter.ts';
import { once } from './once.ts';
import { redis } from './redis.ts';

/**
 * The real-time limits (sends, call signals, receipts): the same sliding windows over Redis counters, one
 * pipelined round trip per frame instead of a DynamoDB call; in-process counters when there is no Redis.
 */
export const realtimeLimiter = once((): RateLimiter => {
  const client = redis();
  return failOpen(new SlidingWindowLimiter(client ? new RedisWindowCounters(client) : new MemoryWindowCounters()));
});

/** The real-time rate limits, on both the WebSocket and REST paths of a send. */
export const realtimeLimits = (): RateLimitDeps => ({
  limiter: realtimeLimiter(),
  clock: systemClock,
  limitScale: config.rateLimitMultiplier,
});
