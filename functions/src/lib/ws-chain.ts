import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyResult, APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { logger, metrics, tracer } from './observability.ts';
import { requestLog } from './request-log.ts';

/** $connect events carry headers and the query string besides the WebSocket request context. */
export type WebSocketEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined> | null;
};

/** The middleware every WebSocket route's handler runs in: logger, tracer, metrics, request log. */
export function chain() {
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
