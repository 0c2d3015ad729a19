import { config } from '#config';
import type { AccountDeps } from '#domain/accounts.ts';
import type { PasswordResetDeps } from '#domain/password-reset.ts';
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

export async function passwordResetDeps(): Promise<PasswordResetDeps> {
  return { ...(await accountDeps()), mailer: mailer(), appUrl: config.mail.appUrl };
}
