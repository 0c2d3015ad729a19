import { connectionRegistry } from '#adapters/clients.ts';
import { lifecycleHandler } from '#lib/ws.ts';

/** $connect: remembers the connection. (The accounts issue adds authentication here.) */
export const handler = lifecycleHandler(async (event) => {
  const { connectionId, connectedAt } = event.requestContext as typeof event.requestContext & { connectedAt?: number };
  await connectionRegistry().add({
    connectionId,
    userId: null,
    deviceId: null,
    connectedAt: connectedAt ?? Date.now(),
  });
  return { statusCode: 200, body: '' };
});
