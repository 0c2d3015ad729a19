/** A limit: at most `max` hits per `windowSeconds` for one key of one rule (a sliding window). */
export interface RateLimit {
  readonly max: number;
  readonly windowSeconds: number;
}

export interface RateLimitVerdict {
  readonly allowed: boolean;
  /** When refused: seconds until a hit would be let through again. */
  readonly retryAfterSeconds: number;
}

/** Counts hits per rule and key: DynamoDB for the REST limits, Redis (or memory) for the real-time ones. */
export interface RateLimiter {
  /** Counts `cost` hits (default 1) and says whether they fit the limit. */
  hit(rule: string, key: string, limit: RateLimit, now: Date, cost?: number): Promise<RateLimitVerdict>;
}

/**
 * Expiring counters, what a sliding-window limiter is built on: one atomic add and one read, each on one
 * key (cluster-safe, no scripts). DynamoDB `UpdateItem ADD`, Redis `INCRBY`, or a map.
 */
export interface WindowCounters {
  /** Adds `amount` to `key` (created to expire after `ttlSeconds`) and returns the new total. */
  add(key: string, amount: number, ttlSeconds: number): Promise<number>;
  /** The count under `key`; 0 when there is none. */
  read(key: string): Promise<number>;
}
