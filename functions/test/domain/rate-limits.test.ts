import { describe, expect, it } from 'vitest';
import { failOpen } from '#adapters/best-effort.ts';
import { enforce, RateLimitedError, rateLimits } from '#domain/rate-limits.ts';
import type { RateLimit, RateLimiter } from '#ports/rate-limiter.ts';

function countingLimiter() {
  const counts = new Map<string, number>();
  const seen: RateLimit[] = [];
  const limiter: RateLimiter = {
    hit: async (rule, key, limit) => {
      seen.push(limit);
      const n = (counts.get(`${rule}#${key}`) ?? 0) + 1;
      counts.set(`${rule}#${key}`, n);
      return { allowed: n <= limit.max, retryAfterSeconds: 42 };
    },
  };
  return { limiter, seen };
}

describe('enforce', () => {
  const clock = () => new Date(0);

  it('lets `max` hits through per key, then throws 429 with the retry delay', async () => {
    const { limiter } = countingLimiter();
    const deps = { limiter, clock, limitScale: 1 };
    for (let i = 0; i < rateLimits.passwordChangePerUser.max; i++) await enforce(deps, 'passwordChangePerUser', 'u1');
    const error = await enforce(deps, 'passwordChangePerUser', 'u1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 42 });
    await expect(enforce(deps, 'passwordChangePerUser', 'u2')).resolves.toBeUndefined();
  });

  it('scales every limit by the multiplier, never below one', async () => {
    const { limiter, seen } = countingLimiter();
    await enforce({ limiter, clock, limitScale: 100 }, 'loginPerAccount', 'k');
    await enforce({ limiter, clock, limitScale: 0.001 }, 'loginPerAccount', 'k2');
    expect(seen.map((l) => l.max)).toEqual([1000, 1]);
  });

  it('fails open when the counter store is down', async () => {
    const broken: RateLimiter = { hit: () => Promise.reject(new Error('dynamodb down')) };
    await expect(failOpen(broken).hit('r', 'k', { max: 1, windowSeconds: 1 }, new Date())).resolves.toEqual({
      allowed: true,
      retryAfterSeconds: 0,
    });
  });
});
