import { describe, expect, it } from 'vitest';
import { MemoryWindowCounters, SlidingWindowLimiter, slidingVerdict } from '#adapters/sliding-window-limiter.ts';

/** The sliding window lets no more than the limit through in any window, across boundaries too. */
describe('SlidingWindowLimiter', () => {
  const limit = { max: 100, windowSeconds: 60 };
  const at = (seconds: number) => new Date(seconds * 1000);

  it('lets `max` hits through and refuses the next, with a retry time', async () => {
    const limiter = new SlidingWindowLimiter(new MemoryWindowCounters());
    const t = 6_000_000 * 60 + 5;
    for (let i = 0; i < 100; i++) expect((await limiter.hit('r', 'k', limit, at(t))).allowed).toBe(true);
    const refused = await limiter.hit('r', 'k', limit, at(t));
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterSeconds).toBeGreaterThan(0);
    expect(refused.retryAfterSeconds).toBeLessThanOrEqual(limit.windowSeconds);
    expect((await limiter.hit('r', 'other', limit, at(t))).allowed).toBe(true);
  });

  it('does not let twice the limit through across a window boundary, as a fixed window does', async () => {
    const limiter = new SlidingWindowLimiter(new MemoryWindowCounters());
    const boundary = 6_000_001 * 60;
    let allowed = 0;
    // 100 at the very end of one window, then a flood at the very start of the next.
    for (let i = 0; i < 100; i++) if ((await limiter.hit('r', 'k', limit, at(boundary - 1))).allowed) allowed++;
    for (let i = 0; i < 100; i++) if ((await limiter.hit('r', 'k', limit, at(boundary + 1))).allowed) allowed++;
    expect(allowed).toBeLessThanOrEqual(limit.max + 5);
  });

  it('counts a claim of several bundles as several hits', async () => {
    const limiter = new SlidingWindowLimiter(new MemoryWindowCounters());
    const t = 6_000_002 * 60;
    expect((await limiter.hit('r', 'k', limit, at(t), 60)).allowed).toBe(true);
    expect((await limiter.hit('r', 'k', limit, at(t), 41)).allowed).toBe(false);
  });

  it('lets hits through again once the window slid past them', () => {
    expect(slidingVerdict(limit, 100, 0, 0.5)).toEqual({ allowed: true, retryAfterSeconds: 0 });
    const refused = slidingVerdict(limit, 100, 60, 0.5);
    expect(refused.allowed).toBe(false);
    // 100 * (1 - f) + 60 <= 100 from f = 0.6: 0.1 of a window from now.
    expect(refused.retryAfterSeconds).toBe(6);
    // Never longer than one window, however far over the limit.
    expect(slidingVerdict(limit, 0, 1_000, 0.01).retryAfterSeconds).toBe(limit.windowSeconds);
  });
});
