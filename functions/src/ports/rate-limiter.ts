/** A limit: at most `max` hits per `windowSeconds` for one key of one rule. */
export interface RateLimit {
  readonly max: number;
  readonly windowSeconds: number;
}

export interface RateLimitVerdict {
  readonly allowed: boolean;
  /** When refused: seconds until the window ends. */
  readonly retryAfterSeconds: number;
}

/** Counts hits per rule and key (DynamoDB in AWS and locally). */
export interface RateLimiter {
  hit(rule: string, key: string, limit: RateLimit, now: Date): Promise<RateLimitVerdict>;
}
