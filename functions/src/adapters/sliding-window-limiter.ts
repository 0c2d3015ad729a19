import type { RateLimit, RateLimiter, RateLimitVerdict, WindowCounters } from '#ports/rate-limiter.ts';

/**
 * A sliding-window limiter (the "sliding window counter" of Cloudflare and Figma): the hits of the current
 * fixed window plus the previous window's hits weighted by how much of it still lies within the last
 * `windowSeconds`. Unlike a fixed window it does not let twice the limit through across a boundary (the
 * estimate assumes the previous window's hits were spread evenly, so it is exact for steady floods and
 * conservative for bursts late in a window). Two counters per rule and key, one add and one read in
 * parallel: one round trip. Refused hits count too, so a client that keeps hammering stays limited.
 */
export class SlidingWindowLimiter implements RateLimiter {
  constructor(private readonly counters: WindowCounters) {}

  async hit(rule: string, key: string, limit: RateLimit, now: Date, cost = 1): Promise<RateLimitVerdict> {
    const nowSeconds = now.getTime() / 1000;
    const window = Math.floor(nowSeconds / limit.windowSeconds);
    const elapsed = (nowSeconds - window * limit.windowSeconds) / limit.windowSeconds;
    const base = `${rule}#${key}#`;
    // The current window's counter must outlive the next window, which still weighs it.
    const [current, previous] = await Promise.all([
      this.counters.add(`${base}${window}`, cost, 2 * limit.windowSeconds + 60),
      this.counters.read(`${base}${window - 1}`),
    ]);
    return slidingVerdict(limit, previous, current, elapsed);
  }
}

/** The verdict for `current` hits in this window (a fraction `elapsed` through it) and `previous` in the last. */
export function slidingVerdict(limit: RateLimit, previous: number, current: number, elapsed: number): RateLimitVerdict {
  const estimate = previous * (1 - elapsed) + current;
  if (estimate <= limit.max) return { allowed: true, retryAfterSeconds: 0 };
  // With no more hits, the estimate falls as the previous window slides out, then as the current one does.
  let wait: number;
  if (current <= limit.max && previous > 0) {
    wait = 1 - (limit.max - current) / previous - elapsed;
  } else {
    wait = 1 - elapsed + (1 - limit.max / current);
  }
  // Within one window every hit counted so far has left the real sliding window: retry by then at the latest.
  const seconds = Math.min(limit.windowSeconds, Math.ceil(wait * limit.windowSeconds));
  return { allowed: false, retryAfterSeconds: Math.max(1, seconds) };
}

/** In-process counters: `npm start` without Redis, and tests. */
export class MemoryWindowCounters implements WindowCounters {
  readonly #counts = new Map<string, { count: number; until: number }>();

  async add(key: string, amount: number, ttlSeconds: number): Promise<number> {
    const now = Date.now();
    const known = this.#counts.get(key);
    const entry = known && known.until > now ? known : { count: 0, until: now + ttlSeconds * 1000 };
    entry.count += amount;
    this.#counts.set(key, entry);
    if (this.#counts.size > 50_000) for (const [k, v] of this.#counts) if (v.until <= now) this.#counts.delete(k);
    return entry.count;
  }

  async read(key: string): Promise<number> {
    const known = this.#counts.get(key);
    return known && known.until > Date.now() ? known.count : 0;
  }
}
