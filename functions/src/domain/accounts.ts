import type {
  ChangePasswordRequest,
  LoginRequest,
  MeResponse,
  RegisterRequest,
  SessionInfo,
  UpdateMeRequest,
  User,
} from '@ciphertalk/shared/protocol';
import { ErrorCode } from '@ciphertalk/shared/protocol';
import type { AuditEventType, AuditLog } from '#ports/audit-log.ts';
import type { PasswordHasher } from '#ports/passwords.ts';
import { AppError, ConflictError, NotFoundError, UnauthorizedError } from './errors.ts';
import { emailKey, enforce, type RateLimitDeps, RateLimitedError } from './rate-limits.ts';
import type { Realtime } from './realtime.ts';
import { endSessions } from './session-end.ts';
import {
  type IssuedTokens,
  openSession,
  type Principal,
  type RequestMeta,
  rotateRefreshToken,
  type SessionDeps,
} from './sessions.ts';

export interface AccountDeps extends SessionDeps, RateLimitDeps {
  readonly passwords: PasswordHasher;
  readonly audit: AuditLog;
  /** To hang up the WebSockets of sessions and devices that end. */
  readonly realtime: Realtime;
}

/** What account changes need once a session exists (no token signing): `/me`'s collaborators. */
export type AccountChangeDeps = Omit<AccountDeps, 'tokens' | 'sessions'>;

/** Records an audit event for `userId` with the request's address and agent. */
export function audited(
  deps: Pick<AccountDeps, 'audit' | 'clock'>,
  userId: string,
  type: AuditEventType,
  meta: RequestMeta,
  extra: {
    sessionId?: string | null;
    deviceId?: number | null;
    details?: Record<string, string | number | boolean>;
  } = {},
): Promise<void> {
  return deps.audit.record({
    userId,
    type,
    at: deps.clock(),
    sourceIp: meta.sourceIp,
    userAgent: meta.userAgent,
    ...extra,
  });
}

interface UserRow extends Record<string, unknown> {
  id: string;
  email: string;
  display_name: string;
  password_hash: string;
  created_at: Date;
}

export const normalizeEmail = (email: string) => email.trim().toLowerCase();

export const toUser = (row: Pick<UserRow, 'id' | 'email' | 'display_name' | 'created_at'>): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  createdAt: row.created_at.toISOString(),
});

export class WeakPasswordError extends AppError {
  override readonly name = 'WeakPasswordError';
  constructor(message: string) {
    super(400, ErrorCode.WeakPassword, message);
  }
}

/** Beyond the schema's length bounds: a password may not be the email address or its local part. */
export function checkPasswordPolicy(password: string, email: string): void {
  const candidate = password.trim().toLowerCase();
  const normalized = normalizeEmail(email);
  const local = normalized.split('@')[0] ?? normalized;
  if (candidate === normalized || candidate === local) {
    throw new WeakPasswordError('The password must not be your email address');
  }
}

const INVALID_CREDENTIALS = 'Email or password is incorrect';

export async function register(
  deps: AccountDeps,
  input: RegisterRequest,
  meta: RequestMeta,
): Promise<{ user: User; tokens: IssuedTokens }> {
  await enforce(deps, 'registerPerIp', meta.sourceIp);
  checkPasswordPolicy(input.password, input.email);
  const passwordHash = await deps.passwords.hash(input.password);
  try {
    const result = await deps.db.transaction(async (tx) => {
      const [row] = await tx.query<UserRow>(
        `INSERT INTO users (email, email_normalized, display_name, password_hash, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id, email, display_name, password_hash, created_at`,
        [input.email.trim(), normalizeEmail(input.email), input.displayName, passwordHash, deps.clock()],
      );
      const user = row as UserRow;
      return { user: toUser(user), tokens: await openSession(deps, tx, user.id, meta) };
    });
    await audited(deps, result.user.id, 'account_registered', meta, { sessionId: result.tokens.sessionId });
    return result;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') {
      throw new ConflictError('An account with this email already exists');
    }
    throw error;
  }
}

/**
 * Same answer, and about the same time, for an unknown email and a wrong password: an unknown email is
 * verified against a dummy hash with the same parameters.
 */
export async function login(
  deps: AccountDeps,
  input: LoginRequest,
  meta: RequestMeta,
): Promise<{ user: User; tokens: IssuedTokens }> {
  const email = normalizeEmail(input.email);
  const [row] = await deps.db.query<UserRow>(
    'SELECT id, email, display_name, password_hash, created_at FROM users WHERE email_normalized = $1',
    [email],
  );
  // Failures are recorded for unknown emails too, under a partition named by the email's hash that no
  // user can read: the same work either way, so the audit write is no timing oracle for account existence.
  const subject = row?.id ?? `unknown-email:${emailKey(email)}`;
  try {
    await enforce(deps, 'loginPerIp', meta.sourceIp);
    await enforce(deps, 'loginPerAccount', emailKey(email));
  } catch (error) {
    if (error instanceof RateLimitedError)
      await audited(deps, subject, 'rate_limited', meta, { details: { rule: error.rule } });
    throw error;
  }
  const hash = row?.password_hash ?? (await deps.passwords.dummyHash());
  const ok = await deps.passwords.verify(hash, input.password);
  if (!row || !ok) {
    await audited(deps, subject, 'login_failed', meta);
    throw new UnauthorizedError(INVALID_CREDENTIALS, ErrorCode.InvalidCredentials);
  }
  const tokens = await deps.db.transaction((tx) => openSession(deps, tx, row.id, meta));
  await audited(deps, row.id, 'login_succeeded', meta, { sessionId: tokens.sessionId });
  return { user: toUser(row), tokens };
}

/**
 * Exchanges a refresh token for new tokens. A reused token has already revoked its session (see
 * `rotateRefreshToken`); that is recorded in the owner's audit log.
 */
export async function refresh(
  deps: AccountDeps,
  refreshToken: string,
  meta: RequestMeta,
): Promise<{ user: User; tokens: IssuedTokens } | null> {
  await enforce(deps, 'refreshPerIp', meta.sourceIp);
  const outcome = await rotateRefreshToken(deps, refreshToken);
  if (outcome.kind === 'reused') {
    await endSessions(deps, outcome.userId, { kind: 'session', sessionId: outcome.sessionId }, 'refresh_token_reused');
    await audited(deps, outcome.userId, 'refresh_token_reused', meta, {
      sessionId: outcome.sessionId,
      details: { sessionRevoked: true },
    });
    return null;
  }
  if (outcome.kind === 'invalid') return null;
  return { user: await getUser(deps, outcome.userId), tokens: outcome.tokens };
}

export async function logout(deps: AccountDeps, principal: Principal, meta: RequestMeta): Promise<void> {
  await endSessions(deps, principal.userId, { kind: 'session', sessionId: principal.sessionId }, 'logout');
  await audited(deps, principal.userId, 'logout', meta, { sessionId: principal.sessionId });
}

/** The caller's live sessions, most recently used first. */
export async function listSessions(
  deps: Pick<AccountDeps, 'db' | 'clock'>,
  principal: Principal,
): Promise<SessionInfo[]> {
  const rows = await deps.db.query<{
    id: string;
    device_id: number | null;
    user_agent: string;
    source_ip: string;
    created_at: Date;
    last_used_at: Date;
  }>(
    `SELECT id, device_id, user_agent, source_ip, created_at, last_used_at FROM sessions
      WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2
      ORDER BY last_used_at DESC, created_at DESC`,
    [principal.userId, deps.clock()],
  );
  return rows.map((row) => ({
    id: row.id,
    deviceId: row.device_id,
    userAgent: row.user_agent,
    sourceIp: row.source_ip,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at.toISOString(),
    current: row.id === principal.sessionId,
  }));
}

/**
 * Ends one of the caller's sessions (another user's is simply not found): its tokens stop working and its
 * device's sockets are closed. The device itself stays registered; it must log in again.
 */
export async function revokeOwnSession(
  deps: Omit<AccountChangeDeps, 'passwords'>,
  principal: Principal,
  sessionId: string,
  meta: RequestMeta,
): Promise<void> {
  const [session] = await deps.db.query<{ device_id: number | null }>(
    `SELECT device_id FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`,
    [sessionId, principal.userId],
  );
  if (!session) throw new NotFoundError('No such session');
  await endSessions(deps, principal.userId, { kind: 'session', sessionId }, 'revoked_by_user');
  await audited(deps, principal.userId, 'session_revoked', meta, {
    sessionId: principal.sessionId,
    deviceId: session.device_id,
    details: { revokedSession: sessionId },
  });
}

export async function logoutAll(deps: AccountDeps, principal: Principal, meta: RequestMeta): Promise<number> {
  const revokedSessions = await endSessions(deps, principal.userId, { kind: 'user' }, 'logout_all');
  await audited(deps, principal.userId, 'logout_all', meta, {
    sessionId: principal.sessionId,
    details: { revokedSessions },
  });
  return revokedSessions;
}

export async function getUser(deps: Pick<AccountDeps, 'db'>, userId: string): Promise<User> {
  const [row] = await deps.db.query<UserRow>('SELECT id, email, display_name, created_at FROM users WHERE id = $1', [
    userId,
  ]);
  if (!row) throw new NotFoundError('No such user');
  return toUser(row);
}

export async function me(deps: Pick<AccountDeps, 'db'>, principal: Principal): Promise<MeResponse> {
  return {
    user: await getUser(deps, principal.userId),
    session: { id: principal.sessionId, deviceId: principal.deviceId },
  };
}

export async function updateMe(
  deps: Pick<AccountDeps, 'db' | 'clock'>,
  principal: Principal,
  input: UpdateMeRequest,
): Promise<User> {
  if (input.displayName !== undefined) {
    await deps.db.query('UPDATE users SET display_name = $2, updated_at = $3 WHERE id = $1', [
      principal.userId,
      input.displayName,
      deps.clock(),
    ]);
  }
  return getUser(deps, principal.userId);
}

/** Changes the password after checking the current one; every other session of the user is revoked. */
export async function changePassword(
  deps: AccountChangeDeps,
  principal: Principal,
  input: ChangePasswordRequest,
  meta: RequestMeta,
): Promise<{ revokedSessions: number }> {
  await enforce(deps, 'passwordChangePerUser', principal.userId);
  const [row] = await deps.db.query<UserRow>('SELECT email, password_hash FROM users WHERE id = $1', [
    principal.userId,
  ]);
  if (!row) throw new UnauthorizedError();
  if (!(await deps.passwords.verify(row.password_hash, input.currentPassword))) {
    throw new UnauthorizedError('The current password is incorrect', ErrorCode.InvalidCredentials);
  }
  checkPasswordPolicy(input.newPassword, row.email);
  const hash = await deps.passwords.hash(input.newPassword);
  const revokedSessions = await endSessions(
    deps,
    principal.userId,
    { kind: 'user', keep: { sessionId: principal.sessionId, deviceId: principal.deviceId } },
    'password_changed',
    async (tx) => {
      await tx.query('UPDATE users SET password_hash = $2, password_changed_at = $3, updated_at = $3 WHERE id = $1', [
        principal.userId,
        hash,
        deps.clock(),
      ]);
    },
  );
  const result = { revokedSessions };
  await audited(deps, principal.userId, 'password_changed', meta, {
    sessionId: principal.sessionId,
    details: { revokedSessions: result.revokedSessions },
  });
  return result;
}
