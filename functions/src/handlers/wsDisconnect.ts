import { connectionRegistry } from '#adapters/clients.ts';
import { lifecycleHandler } from '#lib/ws.ts';

/** $disconnect: forgets the connection. API Gateway calls it on a best-effort basis, so Redis records also expire. */
export const handler = lifecycleHandler(async (event) => {
  await connectionRegistry().remove(event.requestContext.connectionId);
  return { statusCode: 200, body: '' };
});
