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
  wsConnect: {
    description: 'WebSocket $connect: admits a connection with a single-use ticket and registers its user and device',
    timeoutSeconds: 10,
    memoryMb: 256,
  },
  wsDisconnect: { description: 'WebSocket $disconnect: forgets the connection', timeoutSeconds: 10, memoryMb: 256 },
  wsDefault: { description: 'WebSocket $default: answers frames no route matched', timeoutSeconds: 10, memoryMb: 256 },
  wsPing: { description: 'WebSocket ping: answers pong through @connections', timeoutSeconds: 10, memoryMb: 256 },
  realtime: {
    description:
      'WebSocket message.send, message.ack, receipt.read, typing, presence.heartbeat, call.signal: store, fan out, relay',
    timeoutSeconds: 10,
    memoryMb: 1024,
  },
  // argon2id (m = 19 MiB) wants memory and the CPU share that comes with it: 1 GB keeps a hash near 50 ms.
  auth: {
    description: '/auth/*: register, login, refresh-token rotation, logout, logout-all, password reset, ws tickets',
    timeoutSeconds: 10,
    memoryMb: 1024,
  },
  authorizer: {
    description: 'REST REQUEST authorizer: verifies the access token and that its session is live',
    timeoutSeconds: 5,
    memoryMb: 256,
  },
  devices: {
    description: '/devices* and the key directory /users/{userId}/...: devices, prekeys, prekey bundle claims',
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  openapi: {
    description: 'GET /openapi.json: the OpenAPI description, from the shared schemas',
    timeoutSeconds: 5,
    memoryMb: 256,
  },
  users: {
    description: 'GET /users?query= and /users/{userId}: directory search and profiles',
    timeoutSeconds: 10,
    memoryMb: 256,
  },
  conversations: {
    description: '/conversations*, /sync*: conversations, members, encrypted messages, timeline, sync, presence',
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  attachments: {
    description: '/attachments*: upload slots (presigned POST) and downloads (presigned GET) of encrypted files',
    timeoutSeconds: 10,
    memoryMb: 512,
  },
  calls: {
    description: 'GET /calls/ice-servers: STUN/TURN servers and short-lived TURN credentials for WebRTC',
    timeoutSeconds: 5,
    memoryMb: 256,
  },
  retention: {
    description:
      'Scheduled: deletes deliveries and sender-key ciphertexts past MESSAGE_RETENTION_DAYS and unreferenced uploads',
    timeoutSeconds: 300,
    memoryMb: 256,
  },
  me: {
    description: "/me*: the caller's account, sessions, password change, audit log",
    timeoutSeconds: 10,
    memoryMb: 1024,
  },
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
  /**
   * API Gateway's answer (a gateway response, the same in the twin) when the authorizer fails rather than
   * denies: it threw, for instance because the database is resuming from 0 ACU, or timed out. `unavailable`
   * with Retry-After, which the client retries, instead of API Gateway's bare 500.
   */
  authorizerFailure: {
    status: 503,
    retryAfterSeconds: 5,
    body: {
      error: { code: 'unavailable', message: 'Service unavailable; try again shortly', retryAfterSeconds: 5 },
    },
  },
  /**
   * The REQUEST authorizer of every `auth: 'jwt'` route (identity source: the Authorization header).
   * Deploy it with result caching off (TTL 0): revocation must take effect on the next request.
   */
  authorizer: 'authorizer' satisfies FunctionName,
  routes: [
    { method: 'GET', path: '/health', function: 'health', auth: 'none' },
    { method: 'GET', path: '/openapi.json', function: 'openapi', auth: 'jwt' },
    { method: 'POST', path: '/auth/register', function: 'auth', auth: 'none' },
    { method: 'POST', path: '/auth/login', function: 'auth', auth: 'none' },
    { method: 'POST', path: '/auth/refresh', function: 'auth', auth: 'none' },
    { method: 'POST', path: '/auth/logout', function: 'auth', auth: 'jwt' },
    { method: 'POST', path: '/auth/logout-all', function: 'auth', auth: 'jwt' },
    { method: 'POST', path: '/auth/password-reset', function: 'auth', auth: 'none' },
    { method: 'POST', path: '/auth/password-reset/confirm', function: 'auth', auth: 'none' },
    { method: 'POST', path: '/auth/ws-ticket', function: 'auth', auth: 'jwt' },
    { method: 'GET', path: '/me', function: 'me', auth: 'jwt' },
    { method: 'PATCH', path: '/me', function: 'me', auth: 'jwt' },
    { method: 'POST', path: '/me/password', function: 'me', auth: 'jwt' },
    { method: 'GET', path: '/me/audit', function: 'me', auth: 'jwt' },
    { method: 'GET', path: '/me/sessions', function: 'me', auth: 'jwt' },
    { method: 'DELETE', path: '/me/sessions/{sessionId}', function: 'me', auth: 'jwt' },
    { method: 'POST', path: '/devices', function: 'devices', auth: 'jwt' },
    { method: 'GET', path: '/devices', function: 'devices', auth: 'jwt' },
    { method: 'DELETE', path: '/devices/{deviceId}', function: 'devices', auth: 'jwt' },
    { method: 'POST', path: '/devices/{deviceId}/prekeys', function: 'devices', auth: 'jwt' },
    { method: 'PUT', path: '/devices/{deviceId}/signed-prekey', function: 'devices', auth: 'jwt' },
    { method: 'POST', path: '/devices/{deviceId}/pq-prekeys', function: 'devices', auth: 'jwt' },
    { method: 'PUT', path: '/devices/{deviceId}/pq-last-resort-prekey', function: 'devices', auth: 'jwt' },
    { method: 'GET', path: '/users', function: 'users', auth: 'jwt' },
    { method: 'GET', path: '/users/{userId}', function: 'users', auth: 'jwt' },
    { method: 'GET', path: '/users/{userId}/devices', function: 'devices', auth: 'jwt' },
    { method: 'GET', path: '/users/{userId}/prekey-bundles', function: 'devices', auth: 'jwt' },
    { method: 'GET', path: '/users/{userId}/devices/{deviceId}/prekey-bundle', function: 'devices', auth: 'jwt' },
    { method: 'POST', path: '/conversations', function: 'conversations', auth: 'jwt' },
    { method: 'GET', path: '/conversations', function: 'conversations', auth: 'jwt' },
    { method: 'GET', path: '/conversations/{conversationId}', function: 'conversations', auth: 'jwt' },
    { method: 'PATCH', path: '/conversations/{conversationId}', function: 'conversations', auth: 'jwt' },
    { method: 'POST', path: '/conversations/{conversationId}/members', function: 'conversations', auth: 'jwt' },
    {
      method: 'DELETE',
      path: '/conversations/{conversationId}/members/{userId}',
      function: 'conversations',
      auth: 'jwt',
    },
    {
      method: 'PATCH',
      path: '/conversations/{conversationId}/members/{userId}',
      function: 'conversations',
      auth: 'jwt',
    },
    { method: 'GET', path: '/conversations/{conversationId}/messages', function: 'conversations', auth: 'jwt' },
    { method: 'POST', path: '/conversations/{conversationId}/messages', function: 'conversations', auth: 'jwt' },
    { method: 'POST', path: '/conversations/{conversationId}/read', function: 'conversations', auth: 'jwt' },
    { method: 'GET', path: '/conversations/{conversationId}/presence', function: 'conversations', auth: 'jwt' },
    { method: 'GET', path: '/sync', function: 'conversations', auth: 'jwt' },
    { method: 'POST', path: '/attachments', function: 'attachments', auth: 'jwt' },
    { method: 'GET', path: '/calls/ice-servers', function: 'calls', auth: 'jwt' },
    { method: 'GET', path: '/attachments/{attachmentId}', function: 'attachments', auth: 'jwt' },
    { method: 'POST', path: '/sync/ack', function: 'conversations', auth: 'jwt' },
  ] as const satisfies readonly RestRoute[],
} as const;

export interface ScheduledJob {
  readonly function: FunctionName;
  /** Runs every this many minutes (an EventBridge rule in AWS, a timer in the local twin). */
  readonly everyMinutes: number;
}

/** Functions run on a schedule rather than by a route. */
export const schedules = [{ function: 'retention', everyMinutes: 60 }] as const satisfies readonly ScheduledJob[];

export const webSocketApi = {
  name: 'ciphertalk-ws',
  routeSelectionExpression: '$request.body.action',
  routes: [
    { routeKey: '$connect', function: 'wsConnect' },
    { routeKey: '$disconnect', function: 'wsDisconnect' },
    { routeKey: '$default', function: 'wsDefault' },
    { routeKey: 'ping', function: 'wsPing' },
    { routeKey: 'message.send', function: 'realtime' },
    { routeKey: 'message.ack', function: 'realtime' },
    { routeKey: 'receipt.read', function: 'realtime' },
    { routeKey: 'typing', function: 'realtime' },
    { routeKey: 'presence.heartbeat', function: 'realtime' },
    { routeKey: 'call.signal', function: 'realtime' },
  ] as const satisfies readonly WebSocketRoute[],
} as const;

/** API Gateway WebSocket quotas (not adjustable, except the two timeouts in tests). */
export const webSocketLimits = {
  maxFrameBytes: 32 * 1024,
  maxMessageBytes: 128 * 1024,
  idleTimeoutSeconds: 10 * 60,
  maxDurationSeconds: 2 * 60 * 60,
} as const;
