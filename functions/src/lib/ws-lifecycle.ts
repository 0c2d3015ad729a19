import type { APIGatewayProxyResult, Context } from 'aws-lambda';
import { toErrorBody } from './error-response.ts';
import { chain, type WebSocketEvent } from './ws-chain.ts';

/**
 * The handler chain for $connect and $disconnect: the handler's status is the
 * answer (a non-2xx refuses the upgrade); an unexpected error refuses with 500.
 */
export function lifecycleHandler(handle: (event: WebSocketEvent, context: Context) => Promise<APIGatewayProxyResult>) {
  return chain().handler(async (event, context) => {
    try {
      return await handle(event, context);
    } catch (error) {
      const { status, body } = toErrorBody(error);
      return { statusCode: status, body: JSON.stringify(body) };
    }
  });
}
