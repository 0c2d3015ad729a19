import { connectionRegistry } from '#adapters/clients/connection-registry.ts';
import { db } from '#adapters/clients/db.ts';
import { realtime } from '#adapters/clients/realtime.ts';
import { connectionClosed } from '#domain/presence.ts';
import { logger } from '#lib/observability.ts';
import { lifecycleHandler } from '#lib/ws-lifecycle.ts';

/**
 * $disconnect: forgets the connection and, when it was the user's last, marks them offline and tells their
 * co-members. API Gateway calls it on a best-effort basis, so Redis records and presence also expire.
 */
export const handler = lifecycleHandler(async (event) => {
  const removed = await connectionRegistry().remove(event.requestContext.connectionId);
  if (removed?.userId) {
    await connectionClosed({ db: db(), realtime: realtime() }, removed.userId, new Date()).catch((error: unknown) =>
      logger.warn('could not publish going offline', { error: String(error) }),
    );
  }
  return { statusCode: 200, body: '' };
});
