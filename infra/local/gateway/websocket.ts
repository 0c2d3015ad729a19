/**
 * The local twin of API Gateway's WebSocket API and its `@connections`
 * management API, on one port, so the real Lambda handlers run unchanged:
 *
 * - `GET ws://host:port/{stage}` upgrades. `$connect` runs before the upgrade is
 *   answered; a non-2xx result (or a failure) refuses it with that status.
 * - Text frames are routed on `$request.body.action`, else to `$default`; the
 *   handler's return value is not sent back (handlers answer through @connections).
 * - `$disconnect` runs exactly once per opened connection, whoever closed it.
 * - API Gateway's quotas: 32 KB frames, 128 KB messages (close 1009), idle
 *   timeout and maximum duration (close 1001 'Going away').
 * - `POST|GET|DELETE /{stage}/@connections/{id}` answer what the service
 *   answers, so `@aws-sdk/client-apigatewaymanagementapi` works against it.
 *
 * Ordering: each frame is invoked as soon as it arrives, so invocations from one
 * connection may overlap and finish out of order. API Gateway makes no ordering
 * promise either, and a twin that serialised them would hide handlers that
 * depend on order.
 *
 * Where the service's behaviour is not documented, the twin picks:
 * - close codes: 1009 'Frame size limit exceeded' / 'Message size limit exceeded',
 *   1001 'Going away' (idle, maximum duration, gateway shutdown), 1000
 *   'Connection deleted' (@connections DELETE), 1006 when the socket just drops;
 * - the idle timer counts data frames both ways (incoming frames, @connections
 *   posts), not ping/pong;
 * - a refused upgrade carries the `$connect` result's string body;
 * - `$disconnect` carries the Host and X-Forwarded-For headers of the upgrade;
 * - a post is sent as one frame, text when the data is UTF-8, binary otherwise;
 * - @connections accepts any `Authorization: AWS4-HMAC-SHA256 ...` header:
 *   signatures are not verified locally; with `iam`, the call is evaluated as
 *   `execute-api:ManageConnections` on `arn:aws:execute-api:…:{apiId}/{stage}/{METHOD}/@connections/{id}`
 *   for the function whose access key signed it, and a denial is `403 AccessDeniedException`.
 */

import { isUtf8 } from 'node:buffer';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { type FunctionName, webSocketLimits } from '@ciphertalk/shared/routes';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { type Authorize, signingKeyId } from '../iam/enforcement.ts';
import { frameLimitWatcher, type LimitViolation } from './frame-limits.ts';
import { type HandlerResolver, invoke, newApiId, newConnectionId, requestTime } from './lambda.ts';

export interface WebSocketGatewayOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** The stage: the URL's first path segment. Default `local`. */
  readonly stage?: string;
  /** Route keys and the function behind each; normally `webSocketApi.routes`. */
  readonly routes: readonly { readonly routeKey: string; readonly function: FunctionName }[];
  readonly resolve: HandlerResolver;
  /** Closes a connection with no data frame either way for this long. Default 10 min. */
  readonly idleTimeoutMs?: number;
  /** Closes every connection this long after it opened. Default 2 h. */
  readonly maxDurationMs?: number;
  /** One structured line per connection event and failure. Default: JSON on stdout. */
  readonly log?: (line: Record<string, unknown>) => void;
  /** The API's id (its execute-api ARNs carry it); a random one by default. */
  readonly apiId?: string;
  /** The twin's IAM: evaluates every @connections call as the function that signed it. */
  readonly iam?: { readonly authorize: Authorize; readonly region: string; readonly accountId: string };
}

export interface WebSocketGateway {
  /** `ws://host:port/{stage}`: what clients connect to. */
  readonly url: string;
  /** `http://host:port/{stage}`: what handlers give the management API client as `endpoint`. */
  readonly managementEndpoint: string;
  readonly port: number;
  /** The API's id, as in its execute-api ARNs. */
  readonly apiId: string;
  /** Open connections (after `$connect` accepted them, until they start closing). */
  connectionCount(): number;
  /** Closes every connection (each runs `$disconnect`), waits for running invocations, then stops listening. */
  close(): Promise<void>;
}

interface Identity {
  readonly sourceIp: string;
  readonly userAgent: string;
}

/** The request context API Gateway puts in every WebSocket proxy event. */
export interface WebSocketRequestContext {
  readonly routeKey: string;
  readonly eventType: 'CONNECT' | 'MESSAGE' | 'DISCONNECT';
  readonly messageId?: string;
  readonly extendedRequestId: string;
  readonly requestTime: string;
  readonly messageDirection: 'IN';
  readonly stage: string;
  readonly connectedAt: number;
  readonly requestTimeEpoch: number;
  readonly identity: Identity;
  readonly requestId: string;
  readonly domainName: string;
  readonly connectionId: string;
  readonly apiId: string;
  readonly disconnectStatusCode?: number;
  readonly disconnectReason?: string;
}

/** The event a WebSocket route's Lambda receives (Lambda proxy integration). */
export interface WebSocketEvent {
  readonly requestContext: WebSocketRequestContext;
  readonly isBase64Encoded: boolean;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly multiValueHeaders?: Record<string, string[]>;
  readonly queryStringParameters?: Record<string, string> | null;
  readonly multiValueQueryStringParameters?: Record<string, string[]> | null;
}

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  readonly identity: Identity;
  readonly domainName: string;
  lastActiveAt: number;
  /** Set when the gateway closes the socket: what `$disconnect` reports. */
  closedBy?: CloseCause;
  readonly idleTimer: NodeJS.Timeout;
  readonly maxDurationTimer: NodeJS.Timeout;
}

interface CloseCause {
  readonly code: number;
  readonly reason: string;
}

const goingAway: CloseCause = { code: 1001, reason: 'Going away' };
const tooBig: Record<LimitViolation, CloseCause> = {
  frame: { code: 1009, reason: 'Frame size limit exceeded' },
  message: { code: 1009, reason: 'Message size limit exceeded' },
};
const deleted: CloseCause = { code: 1000, reason: 'Connection deleted' };
/** API Gateway's WebSocket integrations are capped at 29 s, like REST ones. */
const integrationTimeoutSeconds = 29;
/** How long a closing socket may take to answer our close frame before it is cut. */
const closeHandshakeMs = 2_000;

/** API Gateway's WebSocket request and message ids: 16 base64 characters, e.g. `L5JKVGDtoAMFQfg=`. */
const newEventId = (): string => `${randomBytes(11).toString('base64').slice(0, 15)}=`;

export async function startWebSocketGateway(options: WebSocketGatewayOptions): Promise<WebSocketGateway> {
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const idleTimeoutMs = options.idleTimeoutMs ?? webSocketLimits.idleTimeoutSeconds * 1000;
  const maxDurationMs = options.maxDurationMs ?? webSocketLimits.maxDurationSeconds * 1000;
  const log = options.log ?? ((line) => process.stdout.write(`${JSON.stringify(line)}\n`));
  const apiId = options.apiId ?? newApiId();
  const routes = new Map(options.routes.map((route) => [route.routeKey, route.function]));

  /** Connections @connections can reach: open, not yet closing. */
  const connections = new Map<string, Connection>();
  /** Every socket until its 'close' event, closing ones included. */
  const live = new Set<Connection>();
  /** Every running invocation and close handshake, so `close()` can wait for them. */
  const pending = new Set<Promise<unknown>>();
  /** Upgrades waiting for `$connect`, so `close()` can cut them. */
  const upgrading = new Set<Duplex>();
  /** The subprotocol each accepted upgrade's `$connect` returned. */
  const selectedProtocol = new WeakMap<IncomingMessage, string>();
  let closing = false;

  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
    return work;
  };

  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    // A backstop: the frame watcher below reports an oversized message first.
    maxPayload: webSocketLimits.maxMessageBytes,
    handleProtocols: (_offered, request) => selectedProtocol.get(request) ?? false,
  });

  const context = (
    routeKey: string,
    eventType: WebSocketRequestContext['eventType'],
    requestId: string,
    at: number,
  ) => ({
    routeKey,
    eventType,
    extendedRequestId: requestId,
    requestTime: requestTime(new Date(at)),
    messageDirection: 'IN' as const,
    stage,
    requestTimeEpoch: at,
    requestId,
    apiId,
  });

  // ---- $connect --------------------------------------------------------------

  const onUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    // Node's HTTP server drops its own error listener on upgrade: without one,
    // a client resetting the connection would crash the process.
    socket.on('error', (error) => log({ level: 'debug', msg: 'upgrade socket error', error: String(error) }));
    if (closing) return refuse(socket, 503, { message: 'Service Unavailable' });
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!['/', `/${stage}`, `/${stage}/`].includes(url.pathname)) {
      return refuse(socket, 403, { message: 'Forbidden' });
    }
    const invalid = invalidHandshake(request);
    if (invalid) return refuse(socket, 400, { message: invalid });

    const connectionId = newConnectionId();
    const connectedAt = Date.now();
    const identity: Identity = {
      sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
      userAgent: request.headers['user-agent'] ?? '',
    };
    const domainName = request.headers.host ?? `${host}:${port}`;
    const { headers, multiValueHeaders } = eventHeaders(request, identity.sourceIp);
    const query = queryParameters(url);
    const requestId = newEventId();
    const event: WebSocketEvent = {
      headers,
      multiValueHeaders,
      queryStringParameters: query.single,
      multiValueQueryStringParameters: query.multi,
      isBase64Encoded: false,
      requestContext: {
        ...context('$connect', 'CONNECT', requestId, connectedAt),
        connectionId,
        connectedAt,
        identity,
        domainName,
      },
    };

    const connectFunction = routes.get('$connect');
    let protocol: string | undefined;
    if (connectFunction) {
      upgrading.add(socket);
      const outcome = await track(invoke(options.resolve, connectFunction, event, integrationTimeoutSeconds));
      upgrading.delete(socket);
      if (outcome.outcome !== 'result') {
        log({
          level: 'error',
          msg: '$connect failed',
          connectionId,
          requestId,
          outcome: outcome.outcome,
          ...cause(outcome),
        });
        return refuse(socket, 500, { message: 'Internal server error' });
      }
      const status = statusCodeOf(outcome.result);
      if (status === undefined) {
        log({ level: 'error', msg: '$connect returned an invalid statusCode', connectionId, requestId });
        return refuse(socket, 500, { message: 'Internal server error' });
      }
      if (status < 200 || status > 299) {
        log({ level: 'info', msg: '$connect refused', connectionId, requestId, status });
        return refuse(socket, status, bodyOf(outcome.result));
      }
      protocol = headerOf(outcome.result, 'sec-websocket-protocol');
    }

    // The client may have gone while $connect ran; $connect registered it, so
    // $disconnect must still run to let the handlers forget it.
    if (closing || socket.destroyed || !socket.readable || !socket.writable) {
      socket.destroy();
      if (connectFunction) {
        const stub = { id: connectionId, connectedAt, identity, domainName };
        void runDisconnect(stub, { code: 1006, reason: 'Connection closed before the upgrade completed' });
      }
      return;
    }

    if (protocol !== undefined) selectedProtocol.set(request, protocol);
    let connection: Connection | undefined;
    const watch = frameLimitWatcher(webSocketLimits, (violation) => {
      if (connection) closeConnection(connection, tooBig[violation]);
    });
    // Registered before `ws` registers its own listener, so it sees every chunk first.
    socket.prependListener('data', watch);
    wss.handleUpgrade(request, socket, head, (ws) => {
      connection = open(ws, { id: connectionId, connectedAt, identity, domainName });
    });
  };

  const open = (
    ws: WebSocket,
    base: Omit<Connection, 'socket' | 'lastActiveAt' | 'idleTimer' | 'maxDurationTimer'>,
  ) => {
    const connection: Connection = {
      ...base,
      socket: ws,
      lastActiveAt: base.connectedAt,
      idleTimer: setTimeout(() => closeConnection(connection, goingAway), idleTimeoutMs),
      maxDurationTimer: setTimeout(() => closeConnection(connection, goingAway), maxDurationMs),
    };
    connections.set(connection.id, connection);
    live.add(connection);
    log({ level: 'info', msg: 'connected', connectionId: connection.id, protocol: ws.protocol || undefined });

    ws.on('message', (data, isBinary) => onMessage(connection, data, isBinary));
    ws.on('error', (error) =>
      log({ level: 'debug', msg: 'socket error', connectionId: connection.id, error: String(error) }),
    );
    ws.on('close', (code, reason) => {
      clearTimeout(connection.idleTimer);
      clearTimeout(connection.maxDurationTimer);
      connections.delete(connection.id);
      live.delete(connection);
      // ws emits 'close' exactly once per socket: $disconnect runs exactly once.
      void runDisconnect(connection, connection.closedBy ?? { code, reason: reason.toString('utf8') });
    });
    return connection;
  };

  // ---- messages --------------------------------------------------------------

  const onMessage = (connection: Connection, data: RawData, isBinary: boolean): void => {
    if (connection.closedBy || connection.socket.readyState !== WebSocket.OPEN) return;
    touch(connection);
    const bytes = toBuffer(data);
    const body = isBinary ? bytes.toString('base64') : bytes.toString('utf8');
    const routeKey = isBinary ? '$default' : selectRoute(body);
    const requestId = newEventId();
    const name = routes.get(routeKey);
    if (!name) {
      send(connection, errorFrame('Forbidden', connection.id, requestId));
      return;
    }
    const now = Date.now();
    const event: WebSocketEvent = {
      requestContext: {
        ...context(routeKey, 'MESSAGE', requestId, now),
        messageId: newEventId(),
        connectionId: connection.id,
        connectedAt: connection.connectedAt,
        identity: connection.identity,
        domainName: connection.domainName,
      },
      body,
      isBase64Encoded: isBinary,
    };
    void track(
      invoke(options.resolve, name, event, integrationTimeoutSeconds).then((outcome) => {
        if (outcome.outcome === 'result') return;
        log({
          level: 'error',
          msg: `${routeKey} failed`,
          connectionId: connection.id,
          requestId,
          outcome: outcome.outcome,
          ...cause(outcome),
        });
        send(connection, errorFrame('Internal server error', connection.id, requestId));
      }),
    );
  };

  const selectRoute = (body: string): string => {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return '$default';
      const action = (parsed as { action?: unknown }).action;
      if (typeof action === 'string' && !action.startsWith('$') && routes.has(action)) return action;
    } catch {
      // Not JSON: API Gateway sends it to $default.
    }
    return '$default';
  };

  const send = (connection: Connection, text: string): void => {
    if (connection.socket.readyState === WebSocket.OPEN) connection.socket.send(text);
  };

  const touch = (connection: Connection): void => {
    connection.lastActiveAt = Date.now();
    connection.idleTimer.refresh();
  };

  // ---- closing and $disconnect -----------------------------------------------

  const closeConnection = (connection: Connection, closedBy: CloseCause): void => {
    if (connection.closedBy) return;
    connection.closedBy = closedBy;
    connections.delete(connection.id);
    const ws = connection.socket;
    if (ws.readyState === WebSocket.CLOSED) return;
    ws.close(closedBy.code, closedBy.reason);
    const cut = setTimeout(() => ws.terminate(), closeHandshakeMs);
    ws.once('close', () => clearTimeout(cut));
  };

  type Disconnecting = Pick<Connection, 'id' | 'connectedAt' | 'identity' | 'domainName'>;

  const runDisconnect = async (connection: Disconnecting, closedBy: CloseCause): Promise<void> => {
    log({ level: 'info', msg: 'disconnected', connectionId: connection.id, ...closedBy });
    const name = routes.get('$disconnect');
    if (!name) return;
    const requestId = newEventId();
    const event: WebSocketEvent = {
      headers: { Host: connection.domainName, 'X-Forwarded-For': connection.identity.sourceIp },
      multiValueHeaders: { Host: [connection.domainName], 'X-Forwarded-For': [connection.identity.sourceIp] },
      isBase64Encoded: false,
      requestContext: {
        ...context('$disconnect', 'DISCONNECT', requestId, Date.now()),
        disconnectStatusCode: closedBy.code,
        disconnectReason: closedBy.reason,
        connectionId: connection.id,
        connectedAt: connection.connectedAt,
        identity: connection.identity,
        domainName: connection.domainName,
      },
    };
    const outcome = await track(invoke(options.resolve, name, event, integrationTimeoutSeconds));
    if (outcome.outcome !== 'result') {
      log({
        level: 'error',
        msg: '$disconnect failed',
        connectionId: connection.id,
        requestId,
        outcome: outcome.outcome,
        ...cause(outcome),
      });
    }
  };

  // ---- @connections ----------------------------------------------------------

  const onRequest = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const target = connectionTarget(request.url ?? '/', stage);
    const signed = /^AWS4-HMAC-SHA256 /.test(request.headers.authorization ?? '');
    const body = await readBody(request, webSocketLimits.maxMessageBytes);
    // Like API Gateway, an unknown resource and an unsigned request get the same
    // answer. Signatures are not verified locally: any SigV4-shaped header passes.
    if (!target || !['GET', 'POST', 'DELETE'].includes(request.method ?? '') || !signed) {
      return reply(response, 403, { message: 'Missing Authentication Token' }, 'MissingAuthenticationTokenException');
    }
    const accessKeyId = options.iam && signingKeyId(request.headers.authorization);
    if (options.iam && accessKeyId) {
      const { region, accountId } = options.iam;
      const denied = await options.iam.authorize({
        accessKeyId,
        action: 'execute-api:ManageConnections',
        resource: `arn:aws:execute-api:${region}:${accountId}:${apiId}/${stage}/${request.method}/@connections/${target}`,
      });
      if (denied) return reply(response, 403, { Message: denied.message }, 'AccessDeniedException');
    }
    if (request.method === 'POST' && body === 'too large') {
      return reply(response, 413, { message: 'Request Too Long' }, 'PayloadTooLargeException');
    }
    const connection = connections.get(target);
    if (!connection || connection.closedBy || connection.socket.readyState !== WebSocket.OPEN) {
      return reply(response, 410, { message: null }, 'GoneException');
    }
    switch (request.method) {
      case 'POST': {
        const data = body === 'too large' ? Buffer.alloc(0) : body;
        const failed = await new Promise<Error | undefined>((done) =>
          connection.socket.send(data, { binary: !isUtf8(data) }, (error) => done(error ?? undefined)),
        );
        if (failed) return reply(response, 410, { message: null }, 'GoneException');
        touch(connection);
        return reply(response, 200);
      }
      case 'GET':
        // The wire names are camelCase; the SDK maps them to ConnectedAt, Identity.SourceIp...
        return reply(response, 200, {
          connectedAt: new Date(connection.connectedAt).toISOString(),
          identity: { sourceIp: connection.identity.sourceIp, userAgent: connection.identity.userAgent },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        });
      default:
        closeConnection(connection, deleted);
        return reply(response, 204);
    }
  };

  // ---- the server ------------------------------------------------------------

  const server = createServer((request, response) => {
    onRequest(request, response).catch((error: unknown) => {
      log({ level: 'error', msg: '@connections failed', error: String(error) });
      if (!response.headersSent) reply(response, 500, { message: 'Internal server error' });
      else response.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(request, socket, head).catch((error: unknown) => {
      log({ level: 'error', msg: 'upgrade failed', error: String(error) });
      socket.destroy();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(options.port, host, () => {
      server.off('error', failed);
      listening();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log({ level: 'info', msg: 'WebSocket gateway listening', url: `ws://${host}:${port}/${stage}` });

  return {
    url: `ws://${host}:${port}/${stage}`,
    managementEndpoint: `http://${host}:${port}/${stage}`,
    port,
    apiId,
    connectionCount: () => connections.size,
    async close() {
      closing = true;
      for (const socket of upgrading) socket.destroy();
      const sockets = [...live].map((connection) => {
        const closed = new Promise((done) => connection.socket.once('close', done));
        closeConnection(connection, goingAway);
        return closed;
      });
      await Promise.all(sockets);
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
    },
  };
}

// ---- helpers (pure) ------------------------------------------------------------

/** What API Gateway sends a client when a frame fails: note its odd spacing. */
function errorFrame(message: string, connectionId: string, requestId: string): string {
  return `{"message": "${message}", "connectionId":"${connectionId}", "requestId":"${requestId}"}`;
}

function refuse(socket: Duplex, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(text)}`,
  ];
  if (socket.writable) socket.end(`${head.join('\r\n')}\r\n\r\n${text}`);
  else socket.destroy();
}

function reply(response: ServerResponse, status: number, body?: unknown, errorType?: string): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    ...(errorType ? { 'x-amzn-ErrorType': errorType } : {}),
  });
  response.end(text);
}

/** Reads the whole body; past `limit` bytes it keeps draining (so the answer can be read) but keeps nothing. */
async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | 'too large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= limit) chunks.push(chunk);
  }
  return size > limit ? 'too large' : Buffer.concat(chunks);
}

/** `/{stage}/@connections/{id}` → the id. The SDK sends `@` as `%40` and encodes the id, so segments are decoded one by one. */
function connectionTarget(url: string, stage: string): string | undefined {
  const path = url.split('?')[0] ?? '';
  try {
    const [empty, pathStage, resource, id, ...rest] = path.split('/').map(decodeURIComponent);
    if (empty !== '' || pathStage !== stage || resource !== '@connections' || !id || rest.length > 0) return undefined;
    return id;
  } catch {
    return undefined;
  }
}

const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Checks the handshake before `$connect` runs: `ws` would otherwise refuse a bad
 * one only after `$connect` had accepted (and registered) the connection.
 */
function invalidHandshake(request: IncomingMessage): string | undefined {
  if (request.method !== 'GET') return 'Invalid HTTP method';
  if (request.headers.upgrade?.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  if (!/^[+/0-9A-Za-z]{22}==$/.test(request.headers['sec-websocket-key'] ?? '')) {
    return 'Missing or invalid Sec-WebSocket-Key header';
  }
  const version = request.headers['sec-websocket-version'];
  if (version !== '13' && version !== '8') return 'Missing or invalid Sec-WebSocket-Version header';
  const offered = request.headers['sec-websocket-protocol'];
  if (offered !== undefined) {
    const protocols = offered.split(',').map((protocol) => protocol.trim());
    if (!protocols.every((protocol) => tokenPattern.test(protocol)) || new Set(protocols).size !== protocols.length) {
      return 'Invalid Sec-WebSocket-Protocol header';
    }
  }
  return undefined;
}

/** Headers as the client sent them (original case), plus the ones API Gateway adds. */
function eventHeaders(request: IncomingMessage, sourceIp: string) {
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const value = raw[i + 1] ?? '';
    const existing = Object.keys(multiValueHeaders).find((key) => key.toLowerCase() === name.toLowerCase());
    if (existing) multiValueHeaders[existing]?.push(value);
    else multiValueHeaders[name] = [value];
  }
  multiValueHeaders['X-Forwarded-For'] = [sourceIp];
  multiValueHeaders['X-Forwarded-Port'] = [String(request.socket.localPort ?? '')];
  multiValueHeaders['X-Forwarded-Proto'] = ['http'];
  multiValueHeaders['X-Amzn-Trace-Id'] = [
    `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
  ];
  const headers = Object.fromEntries(
    Object.entries(multiValueHeaders).map(([name, values]) => [name, values[values.length - 1] ?? '']),
  );
  return { headers, multiValueHeaders };
}

/** API Gateway's v1 shape: the last value wins in the single map; both are null without a query string. */
function queryParameters(url: URL) {
  const multi: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    const values = multi[name] ?? [];
    values.push(value);
    multi[name] = values;
  }
  if (Object.keys(multi).length === 0) return { single: null, multi: null };
  const single = Object.fromEntries(
    Object.entries(multi).map(([name, values]) => [name, values[values.length - 1] ?? '']),
  );
  return { single, multi };
}

/** The result's HTTP status: 200 when it names none, undefined when it is not one. */
function statusCodeOf(result: unknown): number | undefined {
  const status = (result as { statusCode?: unknown } | null | undefined)?.statusCode;
  if (status === undefined) return 200;
  const code = typeof status === 'string' && status !== '' ? Number(status) : status;
  return typeof code === 'number' && Number.isInteger(code) && code >= 100 && code <= 599 ? code : undefined;
}

function bodyOf(result: unknown): unknown {
  const body = (result as { body?: unknown } | null | undefined)?.body;
  return typeof body === 'string' ? body : '';
}

function headerOf(result: unknown, name: string): string | undefined {
  const headers = (result as { headers?: unknown } | null | undefined)?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  // Only a valid token reaches the handshake response: nothing can be injected into it.
  return typeof value === 'string' && tokenPattern.test(value) ? value : undefined;
}

function cause(outcome: { outcome: string; error?: unknown }): Record<string, unknown> {
  if (outcome.outcome !== 'error') return {};
  const error = outcome.error;
  return error instanceof Error ? { error: error.message, stack: error.stack } : { error: String(error) };
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
