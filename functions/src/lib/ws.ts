import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { type ErrorFrame, RequestId, type ServerFrame } from '@ciphertalk/shared/protocol';
import middy from '@middy/core';
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import type { z } from 'zod';
import { connectionsApi } from '#adapters/clients.ts';
import { toErrorBody } from './error-response.ts';
import { logger, metrics, tracer } from './observability.ts';
import { requestLog } from './request-log.ts';
import { parseJson, validate } from './validation.ts';

/** $connect events carry headers and the query string besides the WebSocket request context. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
};

export interface FrameRequest<Frame> {
  readonly frame: Frame;
  readonly connectionId: string;
  readonly requestId: string;
  readonly event: WebSocketEvent;
}

function chain() {
  return middy<WebSocketEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(
      requestLog<WebSocketEvent, APIGatewayProxyResult>(
        'route',
        ({ requestContext: { requestId, connectionId } }) => ({ requestId, connectionId }),
        (event) => ({ routeKey: event.requestContext.routeKey }),
      ),
    );
}

/**
 * The handler chain for a WebSocket route that receives frames: the frame is
 * validated with its shared schema, and any failure is answered to the sender
 * as an `error` frame carrying the request's id (API Gateway discards a route's
 * return value unless a route response is configured, so errors travel over
 * @connections like every other answer).
 */
export function frameHandler<S extends z.ZodType>(
  schema: S,
  handle: (request: FrameRequest<z.infer<S>>, context: Context) => Promise<void>,
) {
  return chain().handler(async (event, context) => {
    const { connectionId, requestId } = event.requestContext;
    let id: string | null = null;
    try {
      const body = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : event.body;
      const raw = parseJson(body ?? '');
      id = readId(raw);
      const frame = validate(schema, raw, 'frame');
      await handle({ frame, connectionId, requestId, event }, context);
      return { statusCode: 200, body: '' };
    } catch (error) {
      const { status, body } = toErrorBody(error);
      const reply: ErrorFrame = { type: 'error', id, error: body.error };
      await connectionsApi()
        .post(connectionId, reply)
        .catch((postError: unknown) =>
          logger.warn('could not answer with an error frame', { error: String(postError) }),
        );
      return { statusCode: status, body: '' };
    }
  });
}

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

/** Answers the connection a frame came from (an ack, an error): through @connections, like every answer. */
export async function reply(connectionId: string, frame: ServerFrame): Promise<void> {
  await connectionsApi().post(connectionId, frame);
}

function readId(raw: unknown): string | null {
  if (typeof raw !== 'object' || raw === null || !('id' in raw)) return null;
  const parsed = RequestId.safeParse(raw.id);
  return parsed.success ? parsed.data : null;
}
