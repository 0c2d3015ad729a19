import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '#ports/clock.ts';
import type { Db } from '#ports/db.ts';
import type { AccessTokens } from './access-tokens.ts';

/**
 * Sessions and refresh tokens. A session is one login; its refresh tokens form a family: each refresh
 * marks the presented token used and issues its successor. A used token presented again means two
 * parties hold the family (a stolen cookie, or the thief refreshed first), so the whole session is revoked.
 */
export interface SessionSettings {
  readonly refreshTokenTtlSeconds: number;
  readonly maxAgeSeconds: number;
}

export interface RequestMeta {
  readonly sourceIp: string;
  readonly userAgent: string;
}

export interface IssuedTokens {
  readonly sessionId: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

export interface SessionDeps {
  readonly db: Db;
  readonly tokens: AccessTokens;
  readonly clock: Clock;
  readonly sessions: SessionSettings;
}

/** The caller of a JWT route, as the authorizer established it. */
export interface Principal {
  readonly userId: string;
  readonly sessionId: string;
  readonly deviceId: number | null;
}

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();
export const newOpaqueToken = (): string => randomBytes(32).toString('base64url');

/** Opens a session for `userId` and issues its first tokens. Runs inside the caller's transaction. */
export async function openSession(deps: SessionDeps, tx: Db, userId: string, meta: RequestMeta): Promise<IssuedTokens> {
  const now = deps.clock();
  const expiresAt = new Date(now.getTime() + deps.sessions.maxAgeSeconds * 1000);
  const [session] = await tx.query<{ id: string }>(
    `INSERT INTO sessions (user_id, user_agent, source_ip, created_at, last_used_at, expires_at)
     VALUES ($1, $2, $3, $4, $4, $5) RETURNING id`,
    [userId, meta.userAgent.slice(0, 512), meta.sourceIp.slice(0, 64), now, expiresAt],
  );
  const sessionId = (session as { id: string }).id;
  return issue(deps, tx, userId, sessionId, expiresAt);
}

async function issue(
  deps: SessionDeps,
  tx: Db,
  userId: string,
  sessionId: string,
  sessionExpiresAt: Date,
): Promise<IssuedTokens> {
  const now = deps.clock();
  const refreshToken = newOpaqueToken();
  const expiresAt = new Date(
    Math.min(now.getTime() + deps.sessions.refreshTokenTtlSeconds * 1000, sessionExpiresAt.getTime()),
  );
  await tx.query(
    'INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
    [hashToken(refreshToken), sessionId, now, expiresAt],
  );
  const accessToken = await deps.tokens.sign({ userId, sessionId });
  return { sessionId, accessToken, refreshToken, expiresIn: deps.tokens.ttlSeconds };
}

export type RefreshOutcome =
  | { readonly kind: 'rotated'; readonly userId: string; readonly tokens: IssuedTokens }
  | { readonly kind: 'invalid' }
  | { readonly kind: 'reused'; readonly userId: string; readonly sessionId: string };

/**
 * Rotates a refresh token. The token row is locked, so two concurrent refreshes with the same token
 * cannot both succeed: the second sees it used and revokes the session.
 */
export async function rotateRefreshToken(deps: SessionDeps, refreshToken: string): Promise<RefreshOutcome> {
  return deps.db.transaction(async (tx): Promise<RefreshOutcome> => {
    const now = deps.clock();
    const [row] = await tx.query<{
      session_id: string;
      used_at: Date | null;
      expires_at: Date;
      user_id: string;
      revoked_at: Date | null;
      session_expires_at: Date;
    }>(
      `SELECT t.session_id, t.used_at, t.expires_at, s.user_id, s.revoked_at, s.expires_at AS session_expires_at
         FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
        WHERE t.token_hash = $1
        FOR UPDATE OF t, s`,
      [hashToken(refreshToken)],
    );
    if (!row || row.revoked_at !== null) return { kind: 'invalid' };
    // The caller ends the session (`endSessions`), which also closes its sockets and drops its tickets.
    if (row.used_at !== null) return { kind: 'reused', userId: row.user_id, sessionId: row.session_id };
    if (row.expires_at <= now || row.session_expires_at <= now) return { kind: 'invalid' };
    await tx.query('UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [hashToken(refreshToken), now]);
    await tx.query('UPDATE sessions SET last_used_at = $2 WHERE id = $1', [row.session_id, now]);
    const tokens = await issue(deps, tx, row.user_id, row.session_id, row.session_expires_at);
    return { kind: 'rotated', userId: row.user_id, tokens };
  });
}

/** Revokes one session and its refresh tokens (and the device it registered); its device number, if it was live. */
export async function revokeSessionIn(
  tx: Db,
  sessionId: string,
  reason: string,
  now: Date,
): Promise<{ revoked: boolean; deviceId: number | null }> {
  const [revoked] = await tx.query<{ user_id: string; device_id: number | null }>(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1 AND revoked_at IS NULL
     RETURNING user_id, device_id`,
    [sessionId, now, reason],
  );
  await tx.query('DELETE FROM refresh_tokens WHERE session_id = $1', [sessionId]);
  if (revoked) await revokeOrphanedDevices(tx, revoked.user_id, now);
  return { revoked: revoked !== undefined, deviceId: revoked?.device_id ?? null };
}

/**
 * Revokes one device of a user: its prekeys leave the directory and every session bound to it ends.
 * Returns how many sessions, or null when the user has no such live device.
 */
export async function revokeDeviceIn(tx: Db, userId: string, deviceId: number, now: Date): Promise<number | null> {
  const revoked = await tx.query(
    'UPDATE devices SET revoked_at = $3 WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL RETURNING 1',
    [userId, deviceId, now],
  );
  if (revoked.length === 0) return null;
  await tx.query('DELETE FROM one_time_prekeys WHERE user_id = $1 AND device_id = $2', [userId, deviceId]);
  await tx.query('DELETE FROM one_time_pq_prekeys WHERE user_id = $1 AND device_id = $2', [userId, deviceId]);
  const sessions = await tx.query(
    `UPDATE sessions SET revoked_at = $3, revoked_reason = 'device_revoked'
      WHERE user_id = $1 AND device_id = $2 AND revoked_at IS NULL RETURNING 1`,
    [userId, deviceId, now],
  );
  await tx.query(
    `DELETE FROM refresh_tokens t USING sessions s
      WHERE t.session_id = s.id AND s.user_id = $1 AND s.device_id = $2`,
    [userId, deviceId],
  );
  return sessions.length;
}

/**
 * Revokes the user's devices whose session has ended. A device belongs to the one session (browser) that
 * registered it: a new sign-in registers a new device, so once that session is revoked nobody can use the device
 * again. Left live, it would stay a recipient every sender must encrypt for, with deliveries nobody acknowledges,
 * and stay listed as if it were in use. Its unclaimed one-time prekeys go with it. Returns how many.
 */
export async function revokeOrphanedDevices(db: Db, userId: string, now: Date): Promise<number> {
  const revoked = await db.query<{ device_id: number }>(
    `UPDATE devices d SET revoked_at = $2
      WHERE d.user_id = $1 AND d.revoked_at IS NULL
        AND EXISTS (SELECT 1 FROM sessions s
                     WHERE s.user_id = d.user_id AND s.device_id = d.device_id AND s.revoked_at IS NOT NULL)
        AND NOT EXISTS (SELECT 1 FROM sessions s
                         WHERE s.user_id = d.user_id AND s.device_id = d.device_id AND s.revoked_at IS NULL)
      RETURNING d.device_id`,
    [userId, now],
  );
  if (revoked.length > 0) {
    for (const table of ['one_time_prekeys', 'one_time_pq_prekeys']) {
      await db.query(
        `DELETE FROM ${table} k USING devices d
          WHERE k.user_id = $1 AND d.user_id = k.user_id AND d.device_id = k.device_id AND d.revoked_at IS NOT NULL`,
        [userId],
      );
    }
  }
  return revoked.length;
}

/** Revokes every live session of a user, except `keep` if given, and the devices they had; returns how many sessions. */
export async function revokeUserSessions(
  db: Db,
  userId: string,
  reason: string,
  now: Date,
  keep: string | null = null,
): Promise<number> {
  const revoked = await db.query<{ id: string }>(
    `UPDATE sessions SET revoked_at = $2, revoked_reason = $3
      WHERE user_id = $1 AND revoked_at IS NULL AND ($4::uuid IS NULL OR id <> $4::uuid)
      RETURNING id`,
    [userId, now, reason, keep],
  );
  if (revoked.length > 0) {
    // No array parameter (the Data API has none): the revoked sessions are found again by user and state.
    await db.query(
      `DELETE FROM refresh_tokens t USING sessions s
        WHERE t.session_id = s.id AND s.user_id = $1 AND s.revoked_at IS NOT NULL`,
      [userId],
    );
    await revokeOrphanedDevices(db, userId, now);
  }
  return revoked.length;
}

/**
 * What the REST authorizer and the WebSocket ticket check: a valid access token whose session is still
 * live. Null for anything else; the reason stays here (the caller answers a bare 401).
 */
export async function authenticate(
  deps: Pick<SessionDeps, 'db' | 'tokens' | 'clock'>,
  token: string,
): Promise<Principal | null> {
  let claims: Awaited<ReturnType<AccessTokens['verify']>>;
  try {
    claims = await deps.tokens.verify(token);
  } catch {
    return null;
  }
  const [session] = await deps.db.query<{ device_id: number | null }>(
    `SELECT device_id FROM sessions
      WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3`,
    [claims.sessionId, claims.userId, deps.clock()],
  );
  if (!session) return null;
  return { userId: claims.userId, sessionId: claims.sessionId, deviceId: session.device_id };
}

/** Whether a session is still live (not revoked, not expired): what WebSocket frames are served under. */
export async function isSessionLive(db: Db, sessionId: string, now: Date): Promise<boolean> {
  const [row] = await db.query(
    'SELECT 1 AS live FROM sessions WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2',
    [sessionId, now],
  );
  return row !== undefined;
}
