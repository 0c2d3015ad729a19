/**
 * The route table: the one declaration of every REST route and WebSocket route
 * key, and of the Lambda function behind each. The CDK stack builds API Gateway
 * from it and the local twin (infra/local) serves it, so what runs locally is
 * what is deployed.
 *
 * A function named `x` lives in `functions/src/handlers/x.ts` and exports `handler`.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface FunctionSpec {
  readonly description: string;
  /** Lambda timeout. REST integrations are further capped at 29 s by API Gateway. */
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
}

export interface RestRoute {
  readonly method: HttpMethod;
  /** API Gateway resource path: literal segments, `{param}` and a final `{proxy+}`. */
  readonly path: string;
  readonly function: FunctionName;
  /** `none`: public. `jwt`: the request authorizer runs first and its context reaches the handler. */
  readonly auth: 'none' | 'jwt';
}

export interface WebSocketRoute {
  /** `$connect`, `$disconnect`, `$default`, or a value of the frame's `action`. */
  readonly routeKey: string;
  readonly function: FunctionName;
}

export const functions = {
  health: { description: 'GET /health: real checks of every dependency', timeoutSeconds: 10, memoryMb: 256 },
  wsConnect: { description: 'WebSocket $connect: registers the connection', timeoutSeconds: 10, memoryMb: 256 },
  wsDisconnect: { description: 'WebSocket $disconnect: forgets the connection', timeoutSeconds: 10, memoryMb: 256 },
  wsDefault: { description: 'WebSocket $default: answers frames no route matched', timeoutSeconds: 10, memoryMb: 256 },
  wsPing: { description: 'WebSocket ping: answers pong through @connections', timeoutSeconds: 10, memoryMb: 256 },
} as const satisfies Record<string, FunctionSpec>;
export type FunctionName = keyof typeof functions;

export const restApi = {
  name: 'ciphertalk-rest',
  /** Content types API Gateway passes base64-encoded (isBase64Encoded: true). */
  binaryMediaTypes: [] as readonly string[],
  /** API Gateway's hard cap on a REST request body. */
  maxBodyBytes: 10 * 1024 * 1024,
  /** API Gateway's REST integration timeout. */
  integrationTimeoutSeconds: 29,
  routes: [
    { method: 'GET', path: '/health', function: 'health', auth: 'none' },
  ] as const satisfies readonly RestRoute[],
} as const;

export const webSocketApi = {
  name: 'ciphertalk-ws',
  routeSelectionExpression: '$request.body.action',
  routes: [
    { routeKey: '$connect', function: 'wsConnect' },
    { routeKey: '$disconnect', function: 'wsDisconnect' },
    { routeKey: '$default', function: 'wsDefault' },
    { routeKey: 'ping', function: 'wsPing' },
  ] as const satisfies readonly WebSocketRoute[],
} as const;

/** API Gateway WebSocket quotas (not adjustable, except the two timeouts in tests). */
export const webSocketLimits = {
  maxFrameBytes: 32 * 1024,
  maxMessageBytes: 128 * 1024,
  idleTimeoutSeconds: 10 * 60,
  maxDurationSeconds: 2 * 60 * 60,
} as const;
