import { createHash } from 'node:crypto';
import { ErrorCode } from '@ciphertalk/shared/protocol';
import type { Clock } from '#ports/clock.ts';
import type { RateLimit, RateLimiter } from '#ports/rate-limiter.ts';
import { AppError } from './errors.ts';

/**
 * The limits, per rule, each a sliding window (`SlidingWindowLimiter`): at most `max` hits in any
 * `windowSeconds`. Chosen for an enterprise: many people share an office NAT address, so per-IP limits are
 * generous and only stop floods, while per-account limits stop guessing (argon2 already makes each guess
 * cost ~50 ms of server time). Modelled on Signal's server, whose per-action leaky buckets are keyed by
 * account (sends, prekeys) rather than by address. The rules marked "real-time" are counted in Redis
 * (`realtimeLimiter`), the others in DynamoDB.
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
  /**
   * Prekey bundles one user claims (each bundle of a multi-device claim counts): room for a new device to
   * start sessions with every device of a 256-member group at once, not for sweeping the directory.
   */
  preKeyClaimsPerUser: { max: 1000, windowSeconds: 60 * 60 },
  /**
   * One-time prekeys handed out per target device, whoever claims: past it bundles still go out, without a
   * one-time prekey (X3DH runs without one), so a flood from many accounts neither drains the victim nor
   * stops others from starting sessions with them.
   */
  oneTimePreKeysPerDevice: { max: 30, windowSeconds: 60 * 60 },
  wsTicketsPerUser: { max: 30, windowSeconds: 60 },
  /**
   * Upload slots (a row and a presigned POST each): storage is bounded by the quota, this bounds floods. Setting
   * one's picture takes a slot per conversation.
   */
  attachmentSlotsPerUser: { max: 300, windowSeconds: 60 },
  /** Groups one user creates. */
  groupCreationsPerUser: { max: 30, windowSeconds: 60 * 60 },
  /** Renames, member additions and removals, role changes by one user. */
  groupChangesPerUser: { max: 300, windowSeconds: 60 * 60 },
  /** Real-time (WebSocket `message.send` and REST sends alike), per device: an outbox flush fits. */
  messagesPerDevice: { max: 120, windowSeconds: 60 },
  /** Real-time: `call.signal` per device (offers, answers and trickled ICE candidates). */
  callSignalsPerDevice: { max: 300, windowSeconds: 60 },
  /** Real-time: `receipt.read` per device. */
  readReceiptsPerDevice: { max: 300, windowSeconds: 60 },
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
    retryAfterSeconds: number,
    readonly rule: RateLimitRule | 'typing' | 'connections',
  ) {
    super(429, ErrorCode.RateLimited, 'Too many requests; try again later', { retryAfterSeconds });
  }
  declare readonly retryAfterSeconds: number;
}

/** Counts `cost` hits for `key` under `rule`; throws RateLimitedError (429, Retry-After) over the limit. */
export async function enforce(deps: RateLimitDeps, rule: RateLimitRule, key: string, cost = 1): Promise<void> {
  const verdict = await check(deps, rule, key, cost);
  if (!verdict.allowed) throw new RateLimitedError(verdict.retryAfterSeconds, rule);
}

/** Counts `cost` hits for `key` under `rule` and answers whether they fit, for callers that degrade instead. */
export function check(deps: RateLimitDeps, rule: RateLimitRule, key: string, cost = 1) {
  const limit = rateLimits[rule];
  const scaled = { max: Math.max(1, Math.floor(limit.max * deps.limitScale)), windowSeconds: limit.windowSeconds };
  return deps.limiter.hit(rule, key, scaled, deps.clock(), cost);
}

/** WebSocket connections one user may hold open at once (10 devices, with room for reconnect overlaps). */
export const MAX_CONNECTIONS_PER_USER = 20;

/** The key of one device's real-time limits. */
export const deviceKey = (device: { userId: string; deviceId: number }) => `${device.userId}:${device.deviceId}`;

/** A key that names an email without storing it: counters are not a copy of the user list. */
export const emailKey = (normalizedEmail: string) =>
  createHash('sha256').update(normalizedEmail, 'utf8').digest('base64url').slice(0, 32);
