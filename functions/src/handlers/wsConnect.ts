import { WsConnectQuery } from '@ciphertalk/shared/protocol';
import { connectionRegistry } from '#adapters/clients/connection-registry.ts';
import { admitConnection } from '#domain/ws-tickets.ts';
import { logger } from '#lib/observability.ts';
import { lifecycleHandler } from '#lib/ws-lifecycle.ts';
import { systemClock } from '#ports/clock.ts';

/**
 * $connect: admits a connection only with a valid single-use ticket (`?ticket=`, from POST /auth/ws-ticket)
 * and records it with its user and device. Anything else refuses the upgrade with 401. The ticket is never logged.
 */
export const handler = lifecycleHandler(async (event) => {
  const { connectionId, connectedAt } = event.requestContext as typeof event.requestContext & { connectedAt?: number };
  const query = WsConnectQuery.safeParse(event.queryStringParameters ?? {});
  const admitted = query.success
    ? await admitConnection({ registry: connectionRegistry(), clock: systemClock }, query.data.ticket, {
        connectionId,
        connectedAt: connectedAt ?? Date.now(),
      })
    : null;
  if (!admitted) {
    logger.info('connection refused', { reason: query.success ? 'ticket not valid' : 'no ticket' });
    return { statusCode: 401, body: '' };
  }
  return { statusCode: 200, body: '' };
});
