import { createHash, randomBytes } from 'node:crypto';
import type { WsTicketResponse } from '@ciphertalk/shared/protocol';
import type { Clock } from '#ports/clock.ts';
import { type ConnectionRegistry, lastActivity, RECORD_STALE_AFTER_MS } from '#ports/connection-registry.ts';
import type { AccountDeps } from './accounts.ts';
import { ForbiddenError } from './errors.ts';
import { enforce, MAX_CONNECTIONS_PER_USER, RateLimitedError } from './rate-limits.ts';
import { revocationKeys } from './realtime.ts';
import type { Principal } from './sessions.ts';

export const WS_TICKET_TTL_SECONDS = 30;

const hashOf = (ticket: string) => createHash('sha256').update(ticket, 'utf8').digest('base64url');

/**
 * Trades a live session with a registered device for a single-use WebSocket ticket. Browsers cannot set
 * headers on a WebSocket, so the ticket travels in the `$connect` query string: valid 30 s and single-use,
 * so a URL that ends up in a log is worthless. It is 16 bytes of user id then 32 random bytes
 * (base64url, 64 characters); the connection registry keeps only its hash, under the user.
 */
export async function issueWsTicket(deps: AccountDeps, principal: Principal): Promise<WsTicketResponse> {
  if (principal.deviceId === null) throw new ForbiddenError('Register this device before connecting');
  await enforce(deps, 'wsTicketsPerUser', principal.userId);
  const user = Buffer.from(principal.userId.replaceAll('-', ''), 'hex');
  const ticket = Buffer.concat([user, randomBytes(32)]).toString('base64url');
  await deps.realtime.registry.addTicket(
    principal.userId,
    hashOf(ticket),
    {
      deviceId: principal.deviceId,
      sessionId: principal.sessionId,
      issuedAt: deps.clock().getTime(),
      expiresAt: deps.clock().getTime() + WS_TICKET_TTL_SECONDS * 1000,
    },
    WS_TICKET_TTL_SECONDS,
  );
  // A ticket is the device coming online: that is what `lastSeenAt` in the device list tells its owner.
  await deps.db.query('UPDATE devices SET last_seen_at = $3 WHERE user_id = $1 AND device_id = $2', [
    principal.userId,
    principal.deviceId,
    deps.clock(),
  ]);
  return { ticket, expiresIn: WS_TICKET_TTL_SECONDS };
}

/**
 * Spends a ticket at `$connect`: taken out of the registry whatever happens next (single use), and good
 * only if unexpired. Revoking a device or session drops the user's outstanding tickets (`dropConnections`),
 * so a ticket does not outlive what it was issued for.
 */
export async function redeemWsTicket(
  deps: { registry: ConnectionRegistry; clock: Clock },
  ticket: string,
): Promise<{ userId: string; deviceId: number; sessionId: string; issuedAt: number } | null> {
  const bytes = Buffer.from(ticket, 'base64url');
  if (bytes.length !== 48) return null;
  const hex = bytes.subarray(0, 16).toString('hex');
  const userId = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  const record = await deps.registry.takeTicket(userId, hashOf(ticket));
  if (!record || record.expiresAt <= deps.clock().getTime()) return null;
  return { userId, deviceId: record.deviceId, sessionId: record.sessionId, issuedAt: record.issuedAt };
}

/**
 * `$connect`: redeems the ticket and registers the connection with its user, device and session, then reads
 * the user's revocation markers and open connections: over MAX_CONNECTIONS_PER_USER it is removed again and
 * refused with 429. Of the revocation markers: if the ticket's user, device or session was revoked at or after the ticket
 * was issued (a revocation that ran between the redemption and the registration), the connection is
 * removed again and refused. See `dropConnections` for the other half of this ordering.
 */
export async function admitConnection(
  deps: { registry: ConnectionRegistry; clock: Clock },
  ticket: string,
  connection: { connectionId: string; connectedAt: number },
): Promise<{ userId: string; deviceId: number } | null> {
  const admitted = await redeemWsTicket(deps, ticket);
  if (!admitted) return null;
  const { userId, deviceId, sessionId } = admitted;
  await deps.registry.add({ ...connection, userId, deviceId, sessionId });
  const [markers, open] = await Promise.all([
    deps.registry.revocations(userId),
    deps.registry.connectionsOf([userId]).then((found) => found.get(userId) ?? []),
  ]);
  const revoked = revocationKeys(deviceId, sessionId).some(
    (key) => (markers[key] ?? Number.NEGATIVE_INFINITY) >= admitted.issuedAt,
  );
  // The cap counts this connection too; records of connections that died without $disconnect do not count.
  const now = deps.clock().getTime();
  const live = open.filter((record) => now - lastActivity(record) < RECORD_STALE_AFTER_MS).length;
  if (revoked || live > MAX_CONNECTIONS_PER_USER) {
    await deps.registry.remove(connection.connectionId);
    if (!revoked) throw new RateLimitedError(CONNECTION_CAP_RETRY_SECONDS, 'connections');
    return null;
  }
  return { userId, deviceId };
}

/** A user at the connection cap is told to retry after this long (one of their sockets may close meanwhile). */
const CONNECTION_CAP_RETRY_SECONDS = 30;
