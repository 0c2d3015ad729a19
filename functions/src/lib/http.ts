import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { ErrorCode, type RouteContract, restContract } from '@ciphertalk/shared/protocol';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { z } from 'zod';
import { config } from '#config';
import { AppError } from '#domain/errors.ts';
import { toErrorBody } from './error-response.ts';
import { logger, metrics, tracer } from './observability.ts';
import { requestLog } from './request-log.ts';
import { parseJson, validate } from './validation.ts';

export interface HttpResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Full Set-Cookie values; sent as multiValueHeaders, as API Gateway requires for several. */
  readonly cookies?: readonly string[];
}

export interface HttpRequest<Body, Query, Path> {
  readonly body: Body;
  readonly query: Query;
  readonly path: Path;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly requestId: string;
  readonly event: APIGatewayProxyEvent;
}

interface Schemas<B extends z.ZodType, Q extends z.ZodType, P extends z.ZodType> {
  readonly body?: B;
  readonly query?: Q;
  readonly path?: P;
}

export const json = (
  status: number,
  body: unknown,
  extra: Omit<HttpResponse, 'status' | 'body'> = {},
): HttpResponse => ({
  status,
  body,
  ...extra,
});

/**
 * The one handler chain for REST routes: powertools logger (request id in
 * every line), tracer and EMF metrics; the body, query and path parameters
 * validated with the shared zod schemas; CORS for the SPA's origins; and one
 * error handler answering `{ error: { code, message } }`.
 */
export function httpHandler<
  B extends z.ZodType = z.ZodUnknown,
  Q extends z.ZodType = z.ZodUnknown,
  P extends z.ZodType = z.ZodUnknown,
>(
  schemas: Schemas<B, Q, P>,
  handle: (request: HttpRequest<z.infer<B>, z.infer<Q>, z.infer<P>>, context: Context) => Promise<HttpResponse>,
) {
  return middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(captureLambdaHandler(tracer))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(
      requestLog<APIGatewayProxyEvent, APIGatewayProxyResult>(
        'request',
        (event) => ({ requestId: event.requestContext?.requestId }),
        (event) => ({ method: event.httpMethod, resource: event.resource }),
      ),
    )
    .use(cors())
    .use(errorResponses())
    .handler(async (event, context) => {
      const headers = lowerCaseHeaders(event.headers);
      const request = {
        body: schemas.body ? validate(schemas.body, readJsonBody(event, headers), 'request body') : undefined,
        query: schemas.query ? validate(schemas.query, event.queryStringParameters ?? {}, 'query string') : undefined,
        path: schemas.path ? validate(schemas.path, event.pathParameters ?? {}, 'path') : undefined,
        headers,
        sourceIp: event.requestContext?.identity?.sourceIp ?? '',
        userAgent: headers['user-agent'] ?? '',
        requestId: event.requestContext?.requestId ?? context.awsRequestId,
        event,
      } as HttpRequest<z.infer<B>, z.infer<Q>, z.infer<P>>;
      return toProxyResult(await handle(request, context));
    });
}

type Contract = typeof restContract;
/** A REST route's key in the contract (and the route table): `METHOD /resource`. */
export type RouteKey = keyof Contract;
type SchemaOf<K extends RouteKey, F extends 'body' | 'query' | 'path'> = Contract[K] extends {
  readonly [P in F]: infer S extends z.ZodType;
}
  ? S
  : z.ZodUnknown;

/** What a route's handler gets: the body, query and path its contract entry declares, validated. */
export type RouteRequest<K extends RouteKey> = HttpRequest<
  z.infer<SchemaOf<K, 'body'>>,
  z.infer<SchemaOf<K, 'query'>>,
  z.infer<SchemaOf<K, 'path'>>
>;

/**
 * A REST route's handler chain with the request schemas of its contract entry (`restContract[key]`): the
 * schemas the client's typed calls are built from, so both ends read one contract per route.
 */
export function route<K extends RouteKey>(
  key: K,
  handle: (request: RouteRequest<K>, context: Context) => Promise<HttpResponse>,
) {
  const { body, query, path } = restContract[key] as RouteContract;
  return httpHandler({ body, query, path }, handle as Parameters<typeof httpHandler>[1]);
}

function readJsonBody(event: APIGatewayProxyEvent, headers: Record<string, string>): unknown {
  if (event.body === null || event.body === undefined || event.body === '') {
    throw new AppError(400, ErrorCode.ValidationFailed, 'A JSON request body is required');
  }
  const type = headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new AppError(415, ErrorCode.UnsupportedMediaType, 'Send the body as application/json');
  }
  const text = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  return parseJson(text);
}

function toProxyResult(response: HttpResponse): APIGatewayProxyResult {
  const hasBody = response.body !== undefined;
  return {
    statusCode: response.status,
    headers: {
      ...(hasBody ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'cache-control': 'no-store',
      // Every API answer: a browser never sniffs a JSON answer into something it would render or run.
      'x-content-type-options': 'nosniff',
      ...response.headers,
    },
    ...(response.cookies?.length ? { multiValueHeaders: { 'set-cookie': [...response.cookies] } } : {}),
    body: hasBody ? JSON.stringify(response.body) : '',
  };
}

export function lowerCaseHeaders(
  headers: Record<string, string | undefined> | null | undefined,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {}))
    if (value !== undefined) result[name.toLowerCase()] = value;
  return result;
}

type HttpMiddleware = MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>;

function errorResponses(): HttpMiddleware {
  return {
    onError: async (request) => {
      const { status, body, retryAfterSeconds } = toErrorBody(request.error);
      const headers = retryAfterSeconds === undefined ? undefined : { 'retry-after': String(retryAfterSeconds) };
      request.response = toProxyResult({ status, body, headers });
    },
  };
}

function cors(): HttpMiddleware {
  const allowed = new Set(config.allowedOrigins);
  const apply: HttpMiddleware['after'] = async (request) => {
    const origin = lowerCaseHeaders(request.event.headers).origin;
    if (!request.response || !origin || !allowed.has(origin)) return;
    request.response.headers = {
      ...request.response.headers,
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'Retry-After',
      vary: 'Origin',
    };
  };
  return { after: apply, onError: apply };
}
