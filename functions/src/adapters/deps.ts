import { config } from '#config';
import type { AccountDeps } from '#domain/accounts.ts';
import type { PasswordResetDeps } from '#domain/password-reset.ts';
import { systemClock } from '#ports/clock.ts';
import { bestEffortRealtime } from './best-effort.ts';
import { accessTokens } from './clients/access-tokens.ts';
import { auditLog } from './clients/audit-log.ts';
import { db } from './clients/db.ts';
import { mailer } from './clients/mailer.ts';
import { passwords } from './clients/passwords.ts';
import { rateLimiter } from './clients/rate-limiter.ts';
import { realtime } from './clients/realtime.ts';

/**
 * The collaborators of `/auth/*` (sessions: tokens are signed here), from the container's clients. Other
 * handlers build the narrower deps their routes take themselves, so their bundles and grants stay theirs.
 */
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
    realtime: bestEffortRealtime(realtime()),
  };
}

/** Null when account mail is off (no sender configured): password resets are then switched off. */
export async function passwordResetDeps(): Promise<PasswordResetDeps | null> {
  const mail = mailer();
  if (!mail) return null;
  return { ...(await accountDeps()), mailer: mail, appUrl: config.mail.appUrl };
}
