import { failOpen } from '#adapters/best-effort.ts';
import { DynamoDbWindowCounters } from '#adapters/dynamodb-rate-limiter.ts';
import { SlidingWindowLimiter } from '#adapters/sliding-window-limiter.ts';
import { config, required } from '#config';
import type { RateLimitDeps } from '#domain/rate-limits.ts';
import { systemClock } from '#ports/clock.ts';
import type { RateLimiter } from '#ports/rate-limiter.ts';
import { dynamodb } from './dynamodb.ts';
import { once } from './once.ts';

/** The REST routes' limits: sliding windows over counters in DynamoDB (`data.grantRateLimiter`). */
const table = required(config.dynamodb.rateLimitTable, 'RATE_LIMIT_TABLE');

export const rateLimiter = once(
  (): RateLimiter => failOpen(new SlidingWindowLimiter(new DynamoDbWindowCounters(dynamodb(), table))),
);

/** The REST routes' rate limits (DynamoDB). */
export const restLimits = (): RateLimitDeps => ({
  limiter: rateLimiter(),
  clock: systemClock,
  limitScale: config.rateLimitMultiplier,
});
