import { createHash } from 'node:crypto';
import { ErrorCode } from '@ciphertalk/shared/protocol';
import type { Clock } from '#ports/clock.ts';
import type { RateLimit, RateLimiter } from '#ports/rate-limiter.ts';
import { AppError } from './errors.ts';

/**
 * The limits, per rule. Chosen for an enterprise: many people share an office NAT address, so per-IP
 * limits are generous and only stop floods, while per-account limits stop guessing (argon2 already
 * makes each guess cost ~50 ms of server time). A fixed window allows up to twice a limit across a
 * window boundary.
 */
export const rateLimits = {
  /** Password guessing against one account, from anywhere: 10 tries per 15 min. */
  loginPerAccount: { max: 10, windowSeconds: 15 * 60 },
  /** Credential stuffing from one address, with room for an office logging in on Monday morning. */
  loginPerIp: { max: 100, windowSeconds: 15 * 60 },
  /** Mass sign-up from one address. */
  registerPerIp: { max: 30, windowSeconds: 60 * 60 },
  /** Refresh tokens are 256-bit random: this only bounds floods (a tab refreshes every ~15 min). */
  refreshPerIp: { max: 600, windowSeconds: 5 * 60 },
  /** Guessing the current password with a stolen access token. */
  passwordChangePerUser: { max: 5, windowSeconds: 15 * 60 },
  /** Mail bombing one inbox. */
  resetRequestPerAccount: { max: 3, windowSeconds: 60 * 60 },
  resetRequestPerIp: { max: 20, windowSeconds: 60 * 60 },
  /** Reset tokens are 256-bit random: this only bounds floods. */
  resetConfirmPerIp: { max: 30, windowSeconds: 60 * 60 },
  /** Harvesting the directory. */
  userSearchPerUser: { max: 60, windowSeconds: 60 },
  /** Draining someone's one-time prekeys. */
  preKeyClaimsPerUser: { max: 120, windowSeconds: 60 },
  wsTicketsPerUser: { max: 30, windowSeconds: 60 },
  /**
   * Upload slots (a row and a presigned POST each): storage is bounded by the quota, this bounds floods. Setting
   * one's picture takes a slot per conversation.
   */
  attachmentSlotsPerUser: { max: 300, windowSeconds: 60 },
} as const satisfies Record<string, RateLimit>;
export type RateLimitRule = keyof typeof rateLimits;

export interface RateLimitDeps {
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  /** Multiplies every `max` (RATE_LIMIT_MULTIPLIER): 1 in production, larger in tests that create many users. */
  readonly limitScale: number;
}

export class RateLimitedError extends AppError {
  override readonly name = 'RateLimitedError';
  constructor(
    readonly retryAfterSeconds: number,
    readonly rule: RateLimitRule,
  ) {
    super(429, ErrorCode.RateLimited, 'Too many requests; try again later');
  }
}

/** Counts a hit for `key` under `rule`; throws RateLimitedError (429, Retry-After) over the limit. */
export async function enforce(deps: RateLimitDeps, rule: RateLimitRule, key: string): Promise<void> {
  const limit = rateLimits[rule];
  const scaled = { max: Math.max(1, Math.floor(limit.max * deps.limitScale)), windowSeconds: limit.windowSeconds };
  const verdict = await deps.limiter.hit(rule, key, scaled, deps.clock());
  if (!verdict.allowed) throw new RateLimitedError(verdict.retryAfterSeconds, rule);
}

/** A key that names an email without storing it: counters are not a copy of the user list. */
export const emailKey = (normalizedEmail: string) =>
  createHash('sha256').update(normalizedEmail, 'utf8').digest('base64url').slice(0, 32);
