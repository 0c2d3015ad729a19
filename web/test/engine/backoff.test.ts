import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/engine/backoff.ts';

describe('backoffDelay', () => {
  it('doubles the ceiling per attempt from the base, up to the cap (random = 1 gives the ceiling)', () => {
    const top = (attempt: number) => backoffDelay(attempt, { baseMs: 500, maxMs: 30_000, random: () => 1 });
    expect([0, 1, 2, 3, 4, 5, 6, 7].map(top)).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
  });

  it('spreads reconnects with full jitter between 0 and the ceiling', () => {
    expect(backoffDelay(3, { random: () => 0 })).toBe(0);
    expect(backoffDelay(3, { random: () => 0.5 })).toBe(2000);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(10);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(5_000);
    }
  });

  it('caps reconnects at 5 s by default, so clients are back within seconds of a server restart', () => {
    expect(backoffDelay(20, { random: () => 1 })).toBe(5_000);
  });
});
