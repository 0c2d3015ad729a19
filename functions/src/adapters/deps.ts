import { config } from '#config';
import type { AccountDeps } from '#domain/accounts.ts';
import type { PasswordResetDeps } from '#domain/password-reset.ts';
import type { RateLimitDeps } from '#domain/rate-limits.ts';
import { systemClock } from '#ports/clock.ts';
import { bestEffortRealtime } from './best-effort.ts';
import {
  accessTokens,
  auditLog,
  connectionRegistry,
  connectionsApi,
  db,
  mailer,
  passwords,
  rateLimiter,
  realtimeLimiter,
} from './clients.ts';

/** The collaborators the account and session domain code takes, from the container's clients. */
export async function accountDeps(): Promise<AccountDeps> {
  return {
    db: db(),
    tokens: await accessTokens(),
    clock: systemClock,
    sessions: config.sessions,
    passwords: passwords(),
    audit: auditLog(),
    limiter: rateLimiter(),
    limitScale: config.rateLimitMultiplier,
    realtime: bestEffortRealtime({ registry: connectionRegistry(), connections: connectionsApi() }),
  };
}

/** The REST routes' rate limits (DynamoDB). */
export const restLimits = (): RateLimitDeps => ({
  limiter: rateLimiter(),
  clock: systemClock,
  limitScale: config.rateLimitMultiplier,
});

/** The real-time rate limits (Redis): sends, call signals, receipts, on both the WebSocket and REST paths. */
export const realtimeLimits = (): RateLimitDeps => ({
  limiter: realtimeLimiter(),
  clock: systemClock,
  limitScale: config.rateLimitMultiplier,
});

export async function passwordResetDeps(): Promise<PasswordResetDeps> {
  return { ...(await accountDeps()), mailer: mailer(), appUrl: config.mail.appUrl };
}
