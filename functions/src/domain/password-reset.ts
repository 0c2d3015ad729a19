import { ErrorCode, type PasswordResetConfirm } from '@ciphertalk/shared/protocol';
import type { Mailer } from '#ports/mailer.ts';
import { type AccountDeps, audited, checkPasswordPolicy, normalizeEmail } from './accounts.ts';
import { AppError } from './errors.ts';
import { emailKey, enforce } from './rate-limits.ts';
import { endSessions } from './session-end.ts';
import { hashToken, newOpaqueToken, type RequestMeta } from './sessions.ts';

/** How long an emailed reset link works. */
export const RESET_TOKEN_TTL_SECONDS = 30 * 60;

export interface PasswordResetDeps extends AccountDeps {
  readonly mailer: Mailer;
  /** The SPA's address: the link is `<appUrl>/#/reset-password?token=…` (in the fragment, so never in a server log or Referer). */
  readonly appUrl: string;
}

export class InvalidResetTokenError extends AppError {
  override readonly name = 'InvalidResetTokenError';
  constructor() {
    super(400, ErrorCode.InvalidToken, 'This reset link is invalid or has expired; request a new one');
  }
}

/**
 * Starts a reset: for an existing account, a fresh single-use token (earlier unused ones are dropped)
 * mailed as a link. The caller answers the same 202 either way, so the answer tells nothing about
 * which emails have accounts.
 */
export async function requestPasswordReset(deps: PasswordResetDeps, email: string, meta: RequestMeta): Promise<void> {
  const normalized = normalizeEmail(email);
  await enforce(deps, 'resetRequestPerIp', meta.sourceIp);
  await enforce(deps, 'resetRequestPerAccount', emailKey(normalized));
  const [user] = await deps.db.query<{ id: string; email: string }>(
    'SELECT id, email FROM users WHERE email_normalized = $1',
    [normalized],
  );
  if (!user) return;
  const token = newOpaqueToken();
  const now = deps.clock();
  await deps.db.transaction(async (tx) => {
    await tx.query('DELETE FROM password_resets WHERE user_id = $1 AND used_at IS NULL', [user.id]);
    await tx.query(
      'INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
      [hashToken(token), user.id, now, new Date(now.getTime() + RESET_TOKEN_TTL_SECONDS * 1000)],
    );
  });
  const link = `${deps.appUrl.replace(/\/$/, '')}/#/reset-password?token=${token}`;
  await deps.mailer.send({
    to: user.email,
    subject: 'Reset your CipherTalk password',
    text: [
      'Someone (hopefully you) asked to reset the password of your CipherTalk account.',
      '',
      `Open this link within ${RESET_TOKEN_TTL_SECONDS / 60} minutes to choose a new password:`,
      link,
      '',
      'If you did not ask for this, ignore this mail: your password stays as it is.',
      'Resetting the password signs out all your devices; your encrypted message history stays on them.',
    ].join('\n'),
  });
  await audited(deps, user.id, 'password_reset_requested', meta);
}

/** Completes a reset: the token is spent, the password replaced, and every session of the account ended. */
export async function confirmPasswordReset(
  deps: PasswordResetDeps,
  input: PasswordResetConfirm,
  meta: RequestMeta,
): Promise<void> {
  await enforce(deps, 'resetConfirmPerIp', meta.sourceIp);
  const now = deps.clock();
  const [reset] = await deps.db.query<{ user_id: string; email: string }>(
    `SELECT r.user_id, u.email FROM password_resets r JOIN users u ON u.id = r.user_id
      WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2`,
    [hashToken(input.token), now],
  );
  if (!reset) throw new InvalidResetTokenError();
  checkPasswordPolicy(input.newPassword, reset.email);
  const hash = await deps.passwords.hash(input.newPassword);
  const revokedSessions = await endSessions(deps, reset.user_id, { kind: 'user' }, 'password_reset', async (tx) => {
    // Spend the token first, under its row lock: of two concurrent confirmations only one finds it unused.
    const spent = await tx.query(
      'UPDATE password_resets SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING 1',
      [hashToken(input.token), now],
    );
    if (spent.length === 0) throw new InvalidResetTokenError();
    await tx.query('UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1', [
      reset.user_id,
      hash,
      now,
    ]);
  });
  await audited(deps, reset.user_id, 'password_reset_completed', meta, { details: { revokedSessions } });
}
