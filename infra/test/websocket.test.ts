import { type Socket, connect as tcpConnect } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { type FunctionName, webSocketApi } from '@ciphertalk/shared/routes';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { LambdaHandler } from '../local/gateway/lambda.ts';
import {
  startWebSocketGateway,
  type WebSocketEvent,
  type WebSocketGateway,
  type WebSocketGatewayOptions,
} from '../local/gateway/websocket.ts';

// ---- fixtures ------------------------------------------------------------------

type Fixture = (event: WebSocketEvent) => Promise<unknown>;

interface Call {
  readonly name: FunctionName;
  readonly event: WebSocketEvent;
}

/** Records every invocation; `waitFor` resolves with the first one matching, past or future. */
class Calls {
  readonly all: Call[] = [];
  private readonly waiters: { match: (call: Call) => boolean; found: (call: Call) => void }[] = [];

  record(call: Call): void {
    this.all.push(call);
    for (const waiter of [...this.waiters]) {
      if (!waiter.match(call)) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.found(call);
    }
  }

  of(name: FunctionName): WebSocketEvent[] {
    return this.all.filter((call) => call.name === name).map((call) => call.event);
  }

  waitFor(name: FunctionName, match: (event: WebSocketEvent) => boolean = () => true): Promise<WebSocketEvent> {
    const matches = (call: Call) => call.name === name && match(call.event);
    const past = this.all.find(matches);
    if (past) return Promise.resolve(past.event);
    return new Promise((found) => this.waiters.push({ match: matches, found: (call) => found(call.event) }));
  }
}

interface Harness {
  readonly gateway: WebSocketGateway;
  readonly calls: Calls;
  readonly logs: Record<string, unknown>[];
}

const running: WebSocketGateway[] = [];
const clients: WebSocket[] = [];

afterEach(async () => {
  for (const ws of clients.splice(0)) ws.terminate();
  await Promise.all(running.splice(0).map((gateway) => gateway.close()));
});

async function start(
  fixtures: Partial<Record<FunctionName, Fixture>> = {},
  options: Partial<WebSocketGatewayOptions> = {},
): Promise<Harness> {
  const calls = new Calls();
  const logs: Record<string, unknown>[] = [];
  const gateway = await startWebSocketGateway({
    port: 0,
    routes: webSocketApi.routes,
    resolve:
      async (name): Promise<LambdaHandler> =>
      async (event) => {
        calls.record({ name, event: event as WebSocketEvent });
        const fixture = fixtures[name];
        return fixture ? fixture(event as WebSocketEvent) : { statusCode: 200 };
      },
    log: (line) => logs.push(line),
    ...options,
  });
  running.push(gateway);
  return { gateway, calls, logs };
}

function management(gateway: WebSocketGateway): ApiGatewayManagementApiClient {
  return new ApiGatewayManagementApiClient({
    endpoint: gateway.managementEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

// ---- a client ------------------------------------------------------------------

class Refused extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`upgrade refused with ${status}`);
  }
}

interface Client {
  readonly ws: WebSocket;
  /** Resolves with the next text the gateway sends. */
  next(): Promise<string>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

function connect(
  url: string,
  init: { protocols?: string[]; headers?: Record<string, string> } = {},
): Promise<Client> & { opened: () => boolean } {
  const ws = new WebSocket(url, init.protocols, { headers: init.headers });
  clients.push(ws);
  ws.on('error', () => undefined);
  let opened = false;
  const inbox: string[] = [];
  const readers: ((text: string) => void)[] = [];
  ws.on('message', (data) => {
    const text = data.toString();
    const reader = readers.shift();
    if (reader) reader(text);
    else inbox.push(text);
  });
  const closed = new Promise<{ code: number; reason: string }>((done) =>
    ws.once('close', (code, reason) => done({ code, reason: reason.toString() })),
  );
  const client: Client = {
    ws,
    closed,
    next: () => {
      const text = inbox.shift();
      return text === undefined ? new Promise((read) => readers.push(read)) : Promise.resolve(text);
    },
  };
  const open = new Promise<Client>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      opened = true;
      resolve(client);
    });
    ws.once('unexpected-response', (request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      response.on('end', () => {
        reject(new Refused(response.statusCode ?? 0, body));
        request.destroy();
      });
    });
  });
  return Object.assign(open, { opened: () => opened });
}

async function connectionIdOf(calls: Calls, index = 0): Promise<string> {
  await calls.waitFor('wsConnect');
  const event = calls.of('wsConnect')[index];
  if (!event) throw new Error(`no $connect #${index}`);
  return event.requestContext.connectionId;
}

const errorFramePattern = (message: string) =>
  new RegExp(`^\\{"message": "${message}", "connectionId":"([^"]+)", "requestId":"([^"]+)"\\}$`);

// ---- $connect --------------------------------------------------------------------

describe('$connect', () => {
  it('receives API Gateway’s CONNECT event with headers, query string and request context', async () => {
    const { gateway, calls } = await start();

    await connect(`${gateway.url}?token=abc&room=1&room=2`, {
      headers: { 'User-Agent': 'fixture-agent/1.0', 'X-Tenant-Id': 'acme' },
    });
    const event = await calls.waitFor('wsConnect');

    expect(event.isBase64Encoded).toBe(false);
    expect(event.queryStringParameters).toEqual({ token: 'abc', room: '2' });
    expect(event.multiValueQueryStringParameters).toEqual({ token: ['abc'], room: ['1', '2'] });
    expect(event.headers).toMatchObject({
      'X-Tenant-Id': 'acme',
      'User-Agent': 'fixture-agent/1.0',
      'Sec-WebSocket-Version': '13',
      'X-Forwarded-For': '127.0.0.1',
      'X-Forwarded-Proto': 'http',
    });
    expect(event.multiValueHeaders?.['X-Tenant-Id']).toEqual(['acme']);
    const context = event.requestContext;
    expect(context).toMatchObject({
      routeKey: '$connect',
      eventType: 'CONNECT',
      messageDirection: 'IN',
      stage: 'local',
      domainName: `127.0.0.1:${gateway.port}`,
      identity: { sourceIp: '127.0.0.1', userAgent: 'fixture-agent/1.0' },
    });
    expect(context.connectionId).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(context.requestId).toBe(context.extendedRequestId);
    expect(context.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(context.requestTimeEpoch).toBe(context.connectedAt);
    expect(context.apiId).toMatch(/^[0-9a-f]{10}$/);
    expect(gateway.connectionCount()).toBe(1);
  });

  it('sets both query string maps to null when the URL has none', async () => {
    const { gateway, calls } = await start();

    await connect(gateway.url);
    const event = await calls.waitFor('wsConnect');

    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });

  it('refuses the upgrade with the status $connect returns, and the socket never opens', async () => {
    const { gateway, calls } = await start({
      wsConnect: async () => ({ statusCode: 401, body: '{"error":"unauthorized"}' }),
    });

    const attempt = connect(gateway.url);
    const refusal = await attempt.then(
      () => undefined,
      (error: unknown) => error,
    );

    expect(refusal).toBeInstanceOf(Refused);
    expect((refusal as Refused).status).toBe(401);
    expect((refusal as Refused).body).toBe('{"error":"unauthorized"}');
    expect(attempt.opened()).toBe(false);
    expect(gateway.connectionCount()).toBe(0);
    await gateway.close();
    expect(calls.of('wsDisconnect')).toHaveLength(0);
  });

  it('refuses with 500 when $connect throws', async () => {
    const { gateway } = await start({
      wsConnect: async () => {
        throw new Error('database down');
      },
    });

    const refusal = await connect(gateway.url).catch((error: unknown) => error);

    expect((refusal as Refused).status).toBe(500);
    expect(JSON.parse((refusal as Refused).body)).toEqual({ message: 'Internal server error' });
  });

  it('echoes Sec-WebSocket-Protocol only when $connect returns it', async () => {
    const { gateway, calls } = await start({
      wsConnect: async (event) =>
        event.queryStringParameters?.echo
          ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': 'ciphertalk.v2' } }
          : { statusCode: 200 },
    });

    const echoed = await connect(`${gateway.url}?echo=1`, { protocols: ['ciphertalk.v1', 'ciphertalk.v2'] });
    // As with API Gateway, a client that asked for a protocol and got none fails the handshake (browsers do too).
    const silent = connect(gateway.url, { protocols: ['ciphertalk.v1', 'ciphertalk.v2'] });
    const failure = await silent.catch((error: unknown) => error);
    const unasked = await connect(`${gateway.url}?echo=1`);

    expect(echoed.ws.protocol).toBe('ciphertalk.v2');
    expect(String(failure)).toContain('Server sent no subprotocol');
    expect(silent.opened()).toBe(false);
    expect(unasked.ws.protocol).toBe('');
    // The gateway had accepted the refused one, so its $disconnect runs.
    expect((await calls.waitFor('wsDisconnect')).requestContext.disconnectStatusCode).toBe(1006);
  });

  it('accepts every upgrade, on / as well as /{stage}, when no $connect route is declared', async () => {
    const { gateway, calls } = await start(
      {},
      { routes: webSocketApi.routes.filter((route) => route.routeKey !== '$connect') },
    );

    const client = await connect(`ws://127.0.0.1:${gateway.port}/`);
    client.ws.send('{"action":"ping"}');

    expect((await calls.waitFor('wsPing')).requestContext.stage).toBe('local');
    expect(calls.of('wsConnect')).toHaveLength(0);
    expect(gateway.connectionCount()).toBe(1);
  });

  it('refuses upgrades to paths other than / and /{stage} with 403, without invoking $connect', async () => {
    const { gateway, calls } = await start();

    const refusal = await connect(`ws://127.0.0.1:${gateway.port}/prod/extra`).catch((error: unknown) => error);

    expect((refusal as Refused).status).toBe(403);
    await gateway.close();
    expect(calls.of('wsConnect')).toHaveLength(0);
  });

  it('runs $disconnect when the client vanishes while $connect is still running', async () => {
    let release = () => {};
    const gate = new Promise<void>((open) => {
      release = open;
    });
    const { gateway, calls } = await start({
      wsConnect: async () => {
        await gate;
        return { statusCode: 200 };
      },
    });

    const attempt = connect(gateway.url);
    attempt.catch(() => undefined);
    await calls.waitFor('wsConnect');
    const ws = clients.at(-1);
    ws?.terminate();
    await new Promise((closed) => ws?.once('close', closed));
    release();
    const disconnect = await calls.waitFor('wsDisconnect');

    expect(disconnect.requestContext.disconnectStatusCode).toBe(1006);
    expect(disconnect.requestContext.connectionId).toBe(await connectionIdOf(calls));
    expect(gateway.connectionCount()).toBe(0);
  });
});

// ---- messages ------------------------------------------------------------------

describe('messages', () => {
  it('routes on the frame’s action and passes a MESSAGE event', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);

    client.ws.send('{"action":"ping","nonce":7}');
    const event = await calls.waitFor('wsPing');

    expect(event.body).toBe('{"action":"ping","nonce":7}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.headers).toBeUndefined();
    expect(event.requestContext).toMatchObject({
      routeKey: 'ping',
      eventType: 'MESSAGE',
      messageDirection: 'IN',
      connectionId,
      stage: 'local',
      identity: { sourceIp: '127.0.0.1' },
    });
    expect(event.requestContext.messageId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(event.requestContext.connectedAt).toBeLessThanOrEqual(event.requestContext.requestTimeEpoch);
  });

  it.each([
    ['an unknown action', '{"action":"teleport"}'],
    ['no action', '{"type":"hello"}'],
    ['a non-string action', '{"action":["ping"]}'],
    ['a reserved route key as action', '{"action":"$connect"}'],
    ['malformed JSON', '{"action":"ping"'],
    ['a JSON array', '[{"action":"ping"}]'],
    ['plain text', 'ping'],
  ])('sends %s to $default', async (_case, frame) => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);

    client.ws.send(frame);
    const event = await calls.waitFor('wsDefault');

    expect(event.requestContext.routeKey).toBe('$default');
    expect(event.body).toBe(frame);
    expect(calls.of('wsPing')).toHaveLength(0);
  });

  it('passes binary frames to $default base64-encoded', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);

    client.ws.send(Buffer.from([0, 1, 2, 250, 255]));
    const event = await calls.waitFor('wsDefault');

    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(Buffer.from([0, 1, 2, 250, 255]));
  });

  it('answers Forbidden when no route matches and there is no $default', async () => {
    const { gateway, calls } = await start(
      {},
      { routes: webSocketApi.routes.filter((route) => route.routeKey !== '$default') },
    );
    const client = await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);

    client.ws.send('{"action":"teleport"}');
    const answer = await client.next();

    const [, answeredId, requestId] = errorFramePattern('Forbidden').exec(answer) ?? [];
    expect(answeredId).toBe(connectionId);
    expect(requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
  });

  it('does not send the handler’s return value to the client', async () => {
    const { gateway, calls } = await start({
      wsDefault: async () => ({ statusCode: 200, body: 'route response' }),
      wsPing: async () => ({ statusCode: 200, body: 'second' }),
    });
    const client = await connect(gateway.url);

    client.ws.send('hello');
    await calls.waitFor('wsDefault');
    // Only what is posted through @connections reaches the client: post a marker and check it comes first.
    await management(gateway).send(
      new PostToConnectionCommand({ ConnectionId: await connectionIdOf(calls), Data: 'marker' }),
    );

    expect(await client.next()).toBe('marker');
  });

  it('answers Internal server error when the handler throws', async () => {
    const { gateway, calls, logs } = await start({
      wsPing: async () => {
        throw new Error('boom');
      },
    });
    const client = await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);

    client.ws.send('{"action":"ping"}');
    const answer = await client.next();

    const [, answeredId, requestId] = errorFramePattern('Internal server error').exec(answer) ?? [];
    expect(answeredId).toBe(connectionId);
    expect(requestId).toBe((await calls.waitFor('wsPing')).requestContext.requestId);
    expect(answer).not.toContain('boom');
    expect(logs).toContainEqual(expect.objectContaining({ level: 'error', error: 'boom' }));
  });

  it('survives a client that vanishes while its message is being handled', async () => {
    let release = () => {};
    const gate = new Promise<void>((open) => {
      release = open;
    });
    const { gateway, calls } = await start({
      wsPing: async () => {
        await gate;
        throw new Error('too late');
      },
    });
    const first = await connect(gateway.url);

    first.ws.send('{"action":"ping"}');
    await calls.waitFor('wsPing');
    first.ws.terminate();
    await calls.waitFor('wsDisconnect');
    release();
    const second = await connect(gateway.url);
    second.ws.send('{"action":"teleport"}');

    expect((await calls.waitFor('wsDefault')).body).toBe('{"action":"teleport"}');
    expect(gateway.connectionCount()).toBe(1);
  });
});

// ---- $disconnect -------------------------------------------------------------------

describe('$disconnect', () => {
  it('runs exactly once with the client’s close code and reason', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url, { headers: { 'User-Agent': 'fixture-agent/1.0' } });
    const connectionId = await connectionIdOf(calls);

    client.ws.close(4000, 'bye');
    const event = await calls.waitFor('wsDisconnect');
    await gateway.close();

    expect(event.requestContext).toMatchObject({
      routeKey: '$disconnect',
      eventType: 'DISCONNECT',
      disconnectStatusCode: 4000,
      disconnectReason: 'bye',
      connectionId,
      identity: { sourceIp: '127.0.0.1', userAgent: 'fixture-agent/1.0' },
    });
    expect(event.headers).toMatchObject({ Host: `127.0.0.1:${gateway.port}` });
    expect(calls.of('wsDisconnect')).toHaveLength(1);
  });

  it('keeps serving when the $disconnect handler throws', async () => {
    const { gateway, calls, logs } = await start({
      wsDisconnect: async () => {
        throw new Error('cleanup failed');
      },
    });
    const first = await connect(gateway.url);

    first.ws.close();
    await calls.waitFor('wsDisconnect');
    const second = await connect(gateway.url);
    second.ws.send('{"action":"ping"}');

    expect((await calls.waitFor('wsPing')).body).toBe('{"action":"ping"}');
    await gateway.close();
    expect(logs).toContainEqual(expect.objectContaining({ msg: '$disconnect failed', error: 'cleanup failed' }));
  });

  it('runs for every connection when the gateway closes', async () => {
    const { gateway, calls } = await start();
    const clientA = await connect(gateway.url);
    const clientB = await connect(gateway.url);

    await gateway.close();

    expect((await clientA.closed).code).toBe(1001);
    expect((await clientB.closed).code).toBe(1001);
    expect(calls.of('wsDisconnect').map((event) => event.requestContext.disconnectStatusCode)).toEqual([1001, 1001]);
    expect(gateway.connectionCount()).toBe(0);
  });
});

// ---- limits --------------------------------------------------------------------------

describe('limits', () => {
  const kb = 1024;

  it('closes with 1009 on a single frame over 32 KB, without invoking a route', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);

    client.ws.send('x'.repeat(40 * kb));
    const closed = await client.closed;
    await gateway.close();

    expect(closed.code).toBe(1009);
    expect(calls.of('wsDefault')).toHaveLength(0);
    expect(calls.of('wsDisconnect')[0]?.requestContext.disconnectStatusCode).toBe(1009);
  });

  it('accepts a 100 KB message sent as four 25 KB fragments', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const part = 'y'.repeat(25 * kb);

    for (let i = 0; i < 3; i++) client.ws.send(part, { fin: false });
    client.ws.send(part, { fin: true });
    const event = await calls.waitFor('wsDefault');

    expect(event.body).toHaveLength(100 * kb);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('accepts frames and messages exactly at the limits (4 × 32 KB = 128 KB)', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const part = 'z'.repeat(32 * kb);

    client.ws.send(part);
    for (let i = 0; i < 3; i++) client.ws.send(part, { fin: false });
    client.ws.send(part, { fin: true });
    await calls.waitFor('wsDefault', (event) => event.body?.length === 128 * kb);

    expect(calls.of('wsDefault').map((event) => event.body?.length)).toEqual([32 * kb, 128 * kb]);
    expect(client.ws.readyState).toBe(WebSocket.OPEN);
  });

  it('closes with 1009 on a 150 KB message sent as five 30 KB fragments', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const part = 'w'.repeat(30 * kb);

    for (let i = 0; i < 4; i++) client.ws.send(part, { fin: false });
    client.ws.send(part, { fin: true });
    const closed = await client.closed;
    await gateway.close();

    expect(closed.code).toBe(1009);
    expect(calls.of('wsDefault')).toHaveLength(0);
  });

  it('closes an idle connection with 1001 Going away and runs $disconnect', async () => {
    const { gateway, calls } = await start({}, { idleTimeoutMs: 200 });
    const client = await connect(gateway.url);

    const closed = await client.closed;
    const event = await calls.waitFor('wsDisconnect');

    expect(closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(event.requestContext).toMatchObject({ disconnectStatusCode: 1001, disconnectReason: 'Going away' });
    expect(gateway.connectionCount()).toBe(0);
  });

  it('closes a connection at its maximum duration with 1001 Going away', async () => {
    const { gateway, calls } = await start({}, { maxDurationMs: 200 });
    const client = await connect(gateway.url);

    const closed = await client.closed;
    const event = await calls.waitFor('wsDisconnect');

    expect(closed).toEqual({ code: 1001, reason: 'Going away' });
    expect(event.requestContext.disconnectStatusCode).toBe(1001);
    expect(gateway.connectionCount()).toBe(0);
  });
});

// ---- @connections ----------------------------------------------------------------------

describe('@connections through the real SDK client', () => {
  it('POST delivers the data to the socket as a text frame', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);

    await management(gateway).send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: '{"type":"hello","text":"héllo"}' }),
    );

    expect(await client.next()).toBe('{"type":"hello","text":"héllo"}');
  });

  it('GET returns when the connection opened, who it is and when it was last active', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url, { headers: { 'User-Agent': 'fixture-agent/1.0' } });
    const connectionId = await connectionIdOf(calls);
    client.ws.send('{"action":"ping"}');
    const ping = await calls.waitFor('wsPing');

    const info = await management(gateway).send(new GetConnectionCommand({ ConnectionId: connectionId }));

    expect(info.ConnectedAt?.getTime()).toBe(ping.requestContext.connectedAt);
    expect(info.Identity).toEqual({ SourceIp: '127.0.0.1', UserAgent: 'fixture-agent/1.0' });
    expect(info.LastActiveAt?.getTime()).toBeGreaterThanOrEqual(ping.requestContext.connectedAt);
  });

  it('DELETE closes the socket and runs $disconnect', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);

    await management(gateway).send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    const closed = await client.closed;
    const event = await calls.waitFor('wsDisconnect');

    expect(closed.code).toBe(1000);
    expect(event.requestContext).toMatchObject({ connectionId, disconnectStatusCode: 1000 });
    expect(gateway.connectionCount()).toBe(0);
  });

  it('answers GoneException for a deleted connection and for an unknown one', async () => {
    const { gateway, calls } = await start();
    await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);
    const sdk = management(gateway);
    await sdk.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));

    const afterDelete = await sdk
      .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' }))
      .catch((error: unknown) => error);
    const unknown = await sdk
      .send(new GetConnectionCommand({ ConnectionId: 'bm90LWFuLWlk=' }))
      .catch((error: unknown) => error);

    for (const error of [afterDelete, unknown]) {
      expect(error).toBeInstanceOf(GoneException);
      expect((error as GoneException).name).toBe('GoneException');
      expect((error as GoneException).$metadata.httpStatusCode).toBe(410);
    }
  });

  it('answers an unsigned request with 403 Missing Authentication Token', async () => {
    const { gateway, calls } = await start();
    await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);

    const unsigned = await fetch(`${gateway.managementEndpoint}/@connections/${encodeURIComponent(connectionId)}`, {
      method: 'POST',
      body: 'sneaky',
    });
    const unknownPath = await fetch(`${gateway.managementEndpoint}/elsewhere`, {
      headers: { Authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/execute-api/aws4_request' },
    });

    expect(unsigned.status).toBe(403);
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(unknownPath.status).toBe(403);
  });

  it('answers 413 PayloadTooLargeException for data over 128 KB and keeps the connection', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const connectionId = await connectionIdOf(calls);
    const sdk = management(gateway);

    const error = await sdk
      .send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'z'.repeat(128 * 1024 + 1) }))
      .then(
        () => undefined,
        (failure: unknown) => failure as { name: string; $metadata: { httpStatusCode?: number } },
      );
    await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'z'.repeat(128 * 1024) }));

    expect(error?.name).toBe('PayloadTooLargeException');
    expect(error?.$metadata.httpStatusCode).toBe(413);
    expect(await client.next()).toHaveLength(128 * 1024);
  });

  it('lets a ping handler answer its sender through managementEndpoint, as the real handlers do', async () => {
    let sdk: ApiGatewayManagementApiClient | undefined;
    const harness = await start({
      wsPing: async (event) => {
        const { nonce } = JSON.parse(event.body ?? '{}') as { nonce?: number };
        await sdk?.send(
          new PostToConnectionCommand({
            ConnectionId: event.requestContext.connectionId,
            Data: JSON.stringify({ type: 'pong', nonce }),
          }),
        );
        return { statusCode: 200 };
      },
    });
    sdk = management(harness.gateway);
    const client = await connect(harness.gateway.url);

    client.ws.send('{"action":"ping","nonce":42}');

    expect(JSON.parse(await client.next())).toEqual({ type: 'pong', nonce: 42 });
  });
});

// ---- robustness --------------------------------------------------------------------------

/** A client speaking raw bytes, for what `ws` refuses to send. */
class RawClient {
  private received = Buffer.alloc(0);
  private readonly waiters: (() => void)[] = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.received = Buffer.concat([this.received, chunk]);
      for (const waiter of this.waiters.splice(0)) waiter();
    });
    socket.on('error', () => undefined);
  }

  static async open(port: number, request: string): Promise<RawClient> {
    const socket = tcpConnect(port, '127.0.0.1');
    await new Promise((connected) => socket.once('connect', connected));
    socket.write(request);
    return new RawClient(socket);
  }

  /** Waits until `take` finds what it needs in the bytes received so far and removes what it consumed. */
  async read<T>(take: (bytes: Buffer) => { value: T; consumed: number } | undefined): Promise<T> {
    for (;;) {
      const found = take(this.received);
      if (found) {
        this.received = this.received.subarray(found.consumed);
        return found.value;
      }
      await new Promise<void>((more) => this.waiters.push(more));
    }
  }

  responseHead(): Promise<string> {
    return this.read((bytes) => {
      const end = bytes.indexOf('\r\n\r\n');
      return end === -1 ? undefined : { value: bytes.subarray(0, end).toString(), consumed: end + 4 };
    });
  }

  /** The next server frame (servers never mask; payloads here stay under 126 bytes). */
  frame(): Promise<{ opcode: number; payload: Buffer }> {
    return this.read((bytes) => {
      const length = (bytes[1] ?? 0) & 0x7f;
      if (bytes.length < 2 + length) return undefined;
      return {
        value: { opcode: (bytes[0] ?? 0) & 0x0f, payload: bytes.subarray(2, 2 + length) },
        consumed: 2 + length,
      };
    });
  }
}

const upgradeRequest = (path: string, headers = 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${headers}Sec-WebSocket-Version: 13\r\n\r\n`;

describe('robustness', () => {
  it('answers a malformed upgrade with 400 without invoking $connect', async () => {
    const { gateway, calls } = await start();

    const raw = await RawClient.open(gateway.port, upgradeRequest('/local', ''));
    const head = await raw.responseHead();
    raw.socket.destroy();
    await gateway.close();

    expect(head).toMatch(/^HTTP\/1\.1 400 /);
    expect(calls.of('wsConnect')).toHaveLength(0);
  });

  it('closes with 1009 as soon as a frame header announces more than 32 KB', async () => {
    const { gateway, calls } = await start();
    const raw = await RawClient.open(gateway.port, upgradeRequest('/local'));
    expect(await raw.responseHead()).toMatch(/^HTTP\/1\.1 101 /);

    // A masked text frame announcing 1 GiB: only its 14-byte header is ever sent.
    const header = Buffer.from([0x81, 0xff, 0, 0, 0, 0, 0x40, 0, 0, 0, 1, 2, 3, 4]);
    raw.socket.write(header);
    const close = await raw.frame();
    raw.socket.destroy();
    const disconnect = await calls.waitFor('wsDisconnect');

    expect(close.opcode).toBe(0x8);
    expect(close.payload.readUInt16BE(0)).toBe(1009);
    expect(disconnect.requestContext.disconnectStatusCode).toBe(1009);
    expect(calls.of('wsDefault')).toHaveLength(0);
  });

  it('closes with 1002 on a protocol error (an unmasked client frame) and keeps serving', async () => {
    const { gateway, calls } = await start();
    const raw = await RawClient.open(gateway.port, upgradeRequest('/local'));
    await raw.responseHead();

    raw.socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const close = await raw.frame();
    raw.socket.destroy();
    await calls.waitFor('wsDisconnect');
    const client = await connect(gateway.url);
    client.ws.send('{"action":"ping"}');

    expect(close.payload.readUInt16BE(0)).toBe(1002);
    expect((await calls.waitFor('wsPing')).body).toBe('{"action":"ping"}');
  });

  it('lets a handler that answers a client who already left get GoneException', async () => {
    let release = () => {};
    const gate = new Promise<void>((open) => {
      release = open;
    });
    let sdk: ApiGatewayManagementApiClient | undefined;
    const answers: unknown[] = [];
    const harness = await start({
      wsPing: async (event) => {
        await gate;
        const sent = sdk?.send(
          new PostToConnectionCommand({ ConnectionId: event.requestContext.connectionId, Data: 'late pong' }),
        );
        answers.push(await sent?.catch((error: unknown) => error));
        return { statusCode: 200 };
      },
    });
    sdk = management(harness.gateway);
    const client = await connect(harness.gateway.url);

    client.ws.send('{"action":"ping"}');
    await harness.calls.waitFor('wsPing');
    client.ws.terminate();
    await harness.calls.waitFor('wsDisconnect');
    release();
    await harness.gateway.close();

    expect(answers).toHaveLength(1);
    expect(answers[0]).toBeInstanceOf(GoneException);
  });

  it('sends data that is not UTF-8 as a binary frame', async () => {
    const { gateway, calls } = await start();
    const client = await connect(gateway.url);
    const frames: { data: Buffer; isBinary: boolean }[] = [];
    const received = new Promise<void>((done) =>
      client.ws.once('message', (data, isBinary) => {
        frames.push({ data: data as Buffer, isBinary });
        done();
      }),
    );

    await management(gateway).send(
      new PostToConnectionCommand({ ConnectionId: await connectionIdOf(calls), Data: new Uint8Array([0xff, 0, 0xfe]) }),
    );
    await received;

    expect(frames).toEqual([{ data: Buffer.from([0xff, 0, 0xfe]), isBinary: true }]);
  });

  it('answers 403 for @connections paths on another stage or without an id', async () => {
    const { gateway } = await start();
    const signed = { Authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/execute-api/aws4_request' };
    const base = `http://127.0.0.1:${gateway.port}`;

    const statuses = await Promise.all(
      ['/prod/@connections/abc%3D', '/local/@connections/', '/local/@connections/abc%3D/extra', '/'].map(
        async (path) => (await fetch(`${base}${path}`, { headers: signed })).status,
      ),
    );

    expect(statuses).toEqual([403, 403, 403, 403]);
  });

  it('decodes each path segment, so ids with /, + and = reach the lookup', async () => {
    const { gateway } = await start();
    const signed = { Authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/execute-api/aws4_request' };

    const response = await fetch(`${gateway.managementEndpoint}/%40connections/ab%2Bc%2Fdefghi%3D`, {
      headers: signed,
    });

    expect(response.status).toBe(410);
    expect(response.headers.get('x-amzn-errortype')).toBe('GoneException');
    expect(await response.json()).toEqual({ message: null });
  });

  it('refuses with 500 when $connect returns something that is not an HTTP status', async () => {
    const { gateway } = await start({ wsConnect: async () => ({ statusCode: 42 }) });

    const refusal = await connect(gateway.url).catch((error: unknown) => error);

    expect((refusal as Refused).status).toBe(500);
  });
});
