import type { ConnectionRegistry } from '#ports/connection-registry.ts';
import type { ConnectionsApi } from '#ports/connections-api.ts';

/** What account code needs of the real-time side: who is connected, and a way to hang up on them. */
export interface Realtime {
  readonly registry: ConnectionRegistry;
  readonly connections: ConnectionsApi;
}

/** What ended: every session of the user (but the caller's device's sockets, with `keepDeviceId`), one device, or one session. */
export type Revocation =
  | { readonly kind: 'user'; readonly keepDeviceId?: number | null }
  | { readonly kind: 'device'; readonly deviceId: number }
  | { readonly kind: 'session'; readonly sessionId: string; readonly deviceId: number | null };

/** The registry's revocation marker a ticket of (device, session) is checked against at `$connect`. */
export const revocationKeys = (deviceId: number, sessionId: string) => [
  'all',
  `device:${deviceId}`,
  `session:${sessionId}`,
];

function markerOf(revocation: Revocation): string {
  if (revocation.kind === 'user') return 'all';
  if (revocation.kind === 'device') return `device:${revocation.deviceId}`;
  return `session:${revocation.sessionId}`;
}

function affects(revocation: Revocation, deviceId: number | null): boolean {
  if (revocation.kind === 'user') return revocation.keepDeviceId == null || deviceId !== revocation.keepDeviceId;
  return revocation.deviceId !== null && deviceId === revocation.deviceId;
}

/**
 * After sessions or a device were revoked in the database: closes the live WebSocket connections they
 * had (API Gateway would otherwise keep them up to 2 hours) and makes sure no ticket issued before now
 * can connect them again. In this order: a revocation marker (checked by `$connect` after it registers a
 * connection), then the outstanding tickets dropped, then the hang-ups. A `$connect` racing this either
 * registers before the hang-ups list the connections (and is hung up on) or reads the marker after
 * registering (and removes itself).
 */
export async function dropConnections(
  realtime: Realtime,
  userId: string,
  revocation: Revocation,
  now: Date,
): Promise<number> {
  await realtime.registry.recordRevocation(userId, markerOf(revocation), now.getTime());
  await realtime.registry.revokeTickets(userId);
  const live = (await realtime.registry.connectionsOf([userId])).get(userId) ?? [];
  const doomed = live.filter((connection) => affects(revocation, connection.deviceId));
  await Promise.all(
    doomed.map(async (connection) => {
      await realtime.connections.disconnect(connection.connectionId);
      await realtime.registry.remove(connection.connectionId);
    }),
  );
  return doomed.length;
}
