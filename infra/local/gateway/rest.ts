import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FunctionName, type RestRoute, restApi } from '@ciphertalk/shared/routes';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { type HandlerResolver, invoke, newApiId, newRequestId, requestTime } from './lambda.ts';
import { compileRoutes, type MatchedRoute } from './route-match.ts';

export interface RestGatewayOptions {
  readonly port: number;
  readonly host?: string;
  readonly stage?: string;
  readonly routes: readonly RestRoute[];
  readonly resolve: HandlerResolver;
  /** The REQUEST authorizer run before every `auth: 'jwt'` route. */
  readonly authorizer?: FunctionName;
  readonly binaryMediaTypes?: readonly string[];
  readonly maxBodyBytes?: number;
  readonly integrationTimeoutSeconds?: number;
  /** Origins answered on CORS preflight, like the CDK's `defaultCorsPreflightOptions`. */
  readonly allowedOrigins?: readonly string[];
  readonly log?: (line: Record<string, unknown>) => void;
}

export interface RestGateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

interface GatewayAnswer {
  readonly status: number;
  readonly body: string | Buffer;
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, readonly string[]>;
}

/** API Gateway's own answers, byte for byte where clients may depend on them. */
const answers = {
  missingToken: {
    status: 403,
    body: '{"message":"Missing Authentication Token"}',
    errorType: 'MissingAuthenticationTokenException',
  },
  tooLarge: { status: 413, body: '{"message":"Request Too Long"}', errorType: 'RequestEntityTooLargeException' },
  uriTooLong: { status: 414, body: '{"message":"Request-URI Too Long"}', errorType: 'RequestURITooLongException' },
  badRequest: { status: 400, body: '{"message":"Bad Request"}', errorType: 'BadRequestException' },
  unauthorized: { status: 401, body: '{"message":"Unauthorized"}', errorType: 'UnauthorizedException' },
  denied: {
    status: 403,
    body: '{"Message":"User is not authorized to access this resource with an explicit deny"}',
    errorType: 'AccessDeniedException',
  },
  // The deployment's gateway response for AUTHORIZER_FAILURE and AUTHORIZER_CONFIGURATION_ERROR.
  authorizerFailure: {
    status: restApi.authorizerFailure.status,
    body: JSON.stringify(restApi.authorizerFailure.body),
    errorType: 'AuthorizerConfigurationException',
    retryAfterSeconds: restApi.authorizerFailure.retryAfterSeconds,
  },
  internal: { status: 502, body: '{"message": "Internal server error"}', errorType: 'InternalServerErrorException' },
  timeout: { status: 504, body: '{"message": "Endpoint request timed out"}', errorType: 'IntegrationTimeout' },
} as const;

/** API Gateway's quota on the length of a request's URL (characters); longer ones are answered 414. */
export const MAX_URL_LENGTH = 8192;

const gatewayError = (answer: (typeof answers)[keyof typeof answers]): GatewayAnswer => ({
  status: answer.status,
  body: answer.body,
  headers: {
    'content-type': 'application/json',
    'x-amzn-errortype': answer.errorType,
    ...('retryAfterSeconds' in answer ? { 'retry-after': String(answer.retryAfterSeconds) } : {}),
    'x-content-type-options': 'nosniff',
  },
});

/**
 * The local twin of an API Gateway REST API with Lambda proxy integrations
 * (payload v1). Builds the same event API Gateway builds, invokes the real
 * handler, and maps its result back, including multiValueHeaders and cookies.
 */
export async function startRestGateway(options: RestGatewayOptions): Promise<RestGateway> {
  const stage = options.stage ?? 'local';
  const apiId = newApiId();
  const match = compileRoutes(options.routes);
  const maxBody = options.maxBodyBytes ?? 10 * 1024 * 1024;
  const cap = options.integrationTimeoutSeconds ?? 29;
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const log = options.log ?? (() => undefined);
  if (options.routes.some((r) => r.auth === 'jwt') && !options.authorizer) {
    throw new Error('routes with auth "jwt" need an authorizer function');
  }

  async function handle(req: IncomingMessage): Promise<GatewayAnswer> {
    if ((req.url ?? '').length > MAX_URL_LENGTH) return gatewayError(answers.uriTooLong);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS') return preflight(req, url.pathname);
    const matched = match(method, url.pathname);
    if (!matched) return gatewayError(answers.missingToken);

    const body = await readBody(req, maxBody);
    if (body === 'too-large') return gatewayError(answers.tooLarge);

    const requestId = newRequestId();
    const event = buildEvent(req, url, matched, body, {
      requestId,
      stage,
      apiId,
      binary: options.binaryMediaTypes ?? [],
    });

    if (matched.route.auth === 'jwt' && options.authorizer) {
      const verdict = await authorize(options.authorizer, event);
      if ('answer' in verdict) return verdict.answer;
      event.requestContext.authorizer = verdict.context;
    }

    const invocation = await invoke(options.resolve, matched.route.function, event, cap);
    if (invocation.outcome === 'timeout') return gatewayError(answers.timeout);
    if (invocation.outcome === 'error') {
      log({
        level: 'ERROR',
        message: 'handler threw',
        function: matched.route.function,
        error: String(invocation.error),
      });
      return gatewayError(answers.internal);
    }
    const result = toAnswer(invocation.result);
    if (!result) {
      log({ level: 'ERROR', message: 'malformed Lambda proxy response', function: matched.route.function });
      return gatewayError(answers.internal);
    }
    return { ...result, headers: { ...result.headers, 'x-amzn-requestid': requestId } };
  }

  async function authorize(
    name: FunctionName,
    event: APIGatewayProxyEvent,
  ): Promise<{ answer: GatewayAnswer } | { context: Record<string, unknown> }> {
    if (!event.headers.authorization && !event.headers.Authorization)
      return { answer: gatewayError(answers.unauthorized) };
    const methodArn = `arn:aws:execute-api:us-east-1:000000000000:${apiId}/${stage}/${event.httpMethod}${event.path}`;
    const authEvent = { type: 'REQUEST', methodArn, ...event };
    const invocation = await invoke(options.resolve, name, authEvent, cap);
    if (
      invocation.outcome === 'error' &&
      invocation.error instanceof Error &&
      invocation.error.message === 'Unauthorized'
    ) {
      return { answer: gatewayError(answers.unauthorized) };
    }
    if (invocation.outcome !== 'result') {
      // It threw (other than `Unauthorized`) or timed out: its database down, restarting or resuming.
      return { answer: gatewayError(answers.authorizerFailure) };
    }
    const policy = invocation.result as {
      principalId?: unknown;
      policyDocument?: { Statement?: { Effect?: string }[] };
      context?: Record<string, unknown>;
    } | null;
    const statements = policy?.policyDocument?.Statement;
    if (!policy || typeof policy.principalId !== 'string' || !Array.isArray(statements)) {
      return { answer: gatewayError(answers.authorizerFailure) };
    }
    const allowed = statements.length > 0 && statements.every((s) => s.Effect === 'Allow');
    if (!allowed) return { answer: gatewayError(answers.denied) };
    return { context: { ...policy.context, principalId: policy.principalId } };
  }

  /**
   * API Gateway's own 4xx/5xx answers (authorizer denials, 413, 502, 504) carry CORS headers in the
   * deployment (GatewayResponses in infra/lib/constructs/rest-api.ts), so a browser can read them; so here.
   * Answers that already have CORS headers (every handler's) are left as they are.
   */
  function withGatewayCors(answer: GatewayAnswer, origin: string | undefined): GatewayAnswer {
    if (answer.status < 400 || !origin || !allowedOrigins.has(origin)) return answer;
    const headers = answer.headers ?? {};
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'access-control-allow-origin')) return answer;
    return {
      ...answer,
      headers: {
        ...headers,
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        vary: 'Origin',
      },
    };
  }

  function preflight(req: IncomingMessage, path: string): GatewayAnswer {
    const methods = match.methodsAt(path);
    if (methods.length === 0) return gatewayError(answers.missingToken);
    const origin = req.headers.origin;
    const headers: Record<string, string> = {};
    if (origin && allowedOrigins.has(origin)) {
      Object.assign(headers, {
        'access-control-allow-origin': origin,
        'access-control-allow-methods': [...methods, 'OPTIONS'].join(','),
        'access-control-allow-headers': 'Content-Type,Authorization,X-Request-Id',
        'access-control-allow-credentials': 'true',
        'access-control-max-age': '600',
        vary: 'Origin',
      });
    }
    return { status: 204, body: '', headers };
  }

  // Headers (the request line included) may be larger than Node's 16 KB default, so an over-long URL reaches
  // `handle` and gets API Gateway's 414 rather than a bare 400 from the parser.
  const server: Server = createServer({ maxHeaderSize: 64 * 1024 }, (req, res) => {
    const started = Date.now();
    handle(req)
      .catch((error: unknown): GatewayAnswer => {
        log({ level: 'ERROR', message: 'gateway failure', error: String(error) });
        return gatewayError(answers.internal);
      })
      .then((answer) => withGatewayCors(answer, req.headers.origin))
      .then((answer) => {
        send(res, answer);
        log({
          level: 'INFO',
          message: 'rest',
          method: req.method,
          path: req.url,
          status: answer.status,
          ms: Date.now() - started,
        });
      });
  });
  // What the HTTP parser refuses: headers over even that (a 414, as the URL is what grows) or malformed ones.
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return;
    const answer = error.code === 'HPE_HEADER_OVERFLOW' ? answers.uriTooLong : answers.badRequest;
    socket.end(
      `HTTP/1.1 ${answer.status} ${answer.status === 414 ? 'URI Too Long' : 'Bad Request'}\r\n` +
        `content-type: application/json\r\nx-amzn-errortype: ${answer.errorType}\r\n` +
        `x-content-type-options: nosniff\r\ncontent-length: ${Buffer.byteLength(answer.body)}\r\n` +
        `connection: close\r\n\r\n${answer.body}`,
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function buildEvent(
  req: IncomingMessage,
  url: URL,
  matched: MatchedRoute,
  body: Buffer | null,
  ctx: { requestId: string; stage: string; apiId: string; binary: readonly string[] },
): APIGatewayProxyEvent {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    multiValueHeaders[name] = [...(multiValueHeaders[name] ?? []), value];
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  const hasQuery = Object.keys(query).length > 0;
  const contentType =
    String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim() ?? '';
  const isBinary = body !== null && ctx.binary.some((type) => mediaTypeMatches(type, contentType));
  const now = new Date();
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  return {
    resource: matched.route.path,
    path: url.pathname,
    httpMethod: matched.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: Object.keys(matched.params).length > 0 ? matched.params : null,
    stageVariables: null,
    body: body === null ? null : isBinary ? body.toString('base64') : body.toString('utf8'),
    isBase64Encoded: isBinary,
    requestContext: {
      accountId: '000000000000',
      apiId: ctx.apiId,
      authorizer: null,
      domainName: req.headers.host ?? 'localhost',
      domainPrefix: 'localhost',
      extendedRequestId: ctx.requestId,
      httpMethod: matched.method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp,
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/${ctx.stage}${url.pathname}`,
      protocol: `HTTP/${req.httpVersion}`,
      requestId: ctx.requestId,
      requestTime: requestTime(now),
      requestTimeEpoch: now.getTime(),
      resourceId: 'local',
      resourcePath: matched.route.path,
      stage: ctx.stage,
    },
  };
}

function mediaTypeMatches(pattern: string, type: string): boolean {
  if (pattern === '*/*') return true;
  if (pattern.endsWith('/*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/**
 * Reads the body, up to `max` bytes. Past it the rest is read and dropped before answering 413, so a
 * keep-alive connection stays usable for the next request (leaving a `for await` early destroys the socket).
 */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > max ? 'too-large' : size === 0 ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Maps a Lambda proxy result back to HTTP; null when it is not one (API Gateway answers 502). */
function toAnswer(result: unknown): GatewayAnswer | null {
  if (typeof result !== 'object' || result === null) return null;
  const r = result as Record<string, unknown>;
  if (typeof r.statusCode !== 'number' || !Number.isInteger(r.statusCode) || r.statusCode < 100 || r.statusCode > 599) {
    return null;
  }
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') return null;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries((r.headers as Record<string, unknown>) ?? {})) {
    if (value === undefined || value === null || typeof value === 'object') return null;
    headers[name.toLowerCase()] = String(value);
  }
  const multiValueHeaders: Record<string, string[]> = {};
  for (const [name, values] of Object.entries((r.multiValueHeaders as Record<string, unknown>) ?? {})) {
    if (!Array.isArray(values)) return null;
    multiValueHeaders[name.toLowerCase()] = values.map(String);
  }
  const text = (r.body as string | undefined) ?? '';
  return {
    status: r.statusCode,
    body: r.isBase64Encoded === true ? Buffer.from(text, 'base64') : text,
    headers,
    multiValueHeaders,
  };
}

function send(res: ServerResponse, answer: GatewayAnswer): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string | string[]> = { ...answer.headers };
  // API Gateway merges both maps: a name in both gets the single value and then the listed ones.
  for (const [name, values] of Object.entries(answer.multiValueHeaders ?? {})) {
    const single = headers[name];
    headers[name] = [...(single === undefined ? [] : [single].flat()), ...values];
  }
  const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
  headers['content-length'] = String(body.length);
  res.writeHead(answer.status, headers);
  res.end(body);
}
