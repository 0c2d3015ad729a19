import type { ConnectionRegistry } from '#ports/connection-registry.ts';
import type { ConnectionsApi } from '#ports/connections-api.ts';

/** What account code needs of the real-time side: who is connected, and a way to hang up on them. */
export interface Realtime {
  readonly registry: ConnectionRegistry;
  readonly connections: ConnectionsApi;
}

/**
 * Closes the live WebSocket connections of `userId` whose device `which` selects (after a device is
 * revoked, a password reset, logout-all): a revoked device must not keep receiving over a socket it
 * opened before, which API Gateway would otherwise keep for up to 2 hours. The user's outstanding
 * WebSocket tickets are dropped first, so none issued before the revocation can still connect.
 */
export async function dropConnections(
  realtime: Realtime,
  userId: string,
  which: (deviceId: number | null) => boolean,
): Promise<number> {
  await realtime.registry.revokeTickets(userId);
  const live = (await realtime.registry.connectionsOf([userId])).get(userId) ?? [];
  const doomed = live.filter((connection) => which(connection.deviceId));
  await Promise.all(
    doomed.map(async (connection) => {
      await realtime.connections.disconnect(connection.connectionId);
      await realtime.registry.remove(connection.connectionId);
    }),
  );
  return doomed.length;
}
