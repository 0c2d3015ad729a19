import type { Clock } from '#ports/clock.ts';
import type { Db } from '#ports/db.ts';
import { NotFoundError } from './errors.ts';
import { dropConnections, type Realtime, type Revocation } from './realtime.ts';
import { revokeDeviceIn, revokeSessionIn, revokeUserSessions } from './sessions.ts';

/** What ends: one session, every session of the user (but one, for a password change), or one device. */
export type SessionEnding =
  | { readonly kind: 'session'; readonly sessionId: string }
  | { readonly kind: 'user'; readonly keep?: { readonly sessionId: string; readonly deviceId: number | null } }
  | { readonly kind: 'device'; readonly deviceId: number };

/**
 * Why: logout, a session ended from the list, logout-all, a password change or reset, a device revoked, a
 * refresh token reused, and (to come) an administrator disabling the account.
 */
export type SessionEndReason =
  | 'logout'
  | 'revoked_by_user'
  | 'logout_all'
  | 'password_changed'
  | 'password_reset'
  | 'device_revoked'
  | 'refresh_token_reused'
  | 'admin_disabled';

export interface SessionEndDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly realtime: Realtime;
}

/**
 * The one way sessions end. In one transaction (with `alongWith`, work that must commit with it, such as
 * the new password hash): the sessions are revoked with their refresh tokens (and the devices they had
 * registered). Then, once that is committed, their WebSockets are closed through `@connections` and the
 * user's outstanding tickets dropped, behind a revocation marker that `$connect` checks (`dropConnections`).
 * So no way of ending a session leaves a socket relaying or a ticket connecting. Returns how many sessions
 * ended. A device that is not the user's live device is `404`.
 */
export async function endSessions(
  deps: SessionEndDeps,
  userId: string,
  ending: SessionEnding,
  reason: SessionEndReason,
  alongWith?: (tx: Db) => Promise<void>,
): Promise<number> {
  const now = deps.clock();
  const { ended, revocation } = await deps.db.transaction(
    async (tx): Promise<{ ended: number; revocation: Revocation }> => {
      await alongWith?.(tx);
      if (ending.kind === 'session') {
        const { revoked, deviceId } = await revokeSessionIn(tx, ending.sessionId, reason, now);
        return { ended: revoked ? 1 : 0, revocation: { kind: 'session', sessionId: ending.sessionId, deviceId } };
      }
      if (ending.kind === 'device') {
        const sessions = await revokeDeviceIn(tx, userId, ending.deviceId, now);
        if (sessions === null) throw new NotFoundError('No such device');
        return { ended: sessions, revocation: { kind: 'device', deviceId: ending.deviceId } };
      }
      const sessions = await revokeUserSessions(tx, userId, reason, now, ending.keep?.sessionId ?? null);
      return { ended: sessions, revocation: { kind: 'user', keepDeviceId: ending.keep?.deviceId ?? null } };
    },
  );
  await dropConnections(deps.realtime, userId, revocation, deps.clock());
  return ended;
}
