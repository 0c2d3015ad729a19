import http from 'node:http';
import type { RestRoute } from '@ciphertalk/shared/routes';
import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LambdaHandler } from '../local/gateway/lambda.ts';
import { MAX_URL_LENGTH, type RestGateway, startRestGateway } from '../local/gateway/rest.ts';
import { fetchJson, fixtureResolver } from './support/fixtures.ts';

// Fixture routes borrow function names from the route table; the handlers are the test's own.
const routes: RestRoute[] = [
  { method: 'GET', path: '/echo/{id}', function: 'health', auth: 'none' },
  { method: 'POST', path: '/echo/{id}', function: 'health', auth: 'none' },
  { method: 'GET', path: '/echo/special', function: 'wsConnect', auth: 'none' },
  { method: 'GET', path: '/files/{proxy+}', function: 'health', auth: 'none' },
  { method: 'POST', path: '/upload', function: 'health', auth: 'none' },
  { method: 'GET', path: '/broken', function: 'wsDisconnect', auth: 'none' },
  { method: 'GET', path: '/slow', function: 'wsDefault', auth: 'none' },
  { method: 'GET', path: '/private', function: 'health', auth: 'jwt' },
];

const seen: { event: APIGatewayProxyEvent; context: Context }[] = [];
const echo: LambdaHandler = async (event, context) => {
  seen.push({ event: event as APIGatewayProxyEvent, context });
  const e = event as APIGatewayProxyEvent;
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json', 'x-single': 'one' },
    multiValueHeaders: { 'set-cookie': ['session=abc; HttpOnly; Secure; SameSite=Strict', 'theme=dark'] },
    body: JSON.stringify({ resource: e.resource, authorizer: e.requestContext.authorizer }),
  };
};

const handlers: Record<string, LambdaHandler> = {
  health: echo,
  wsConnect: async () => ({ statusCode: 202, body: 'special', isBase64Encoded: false }),
  wsDisconnect: async (event) => {
    const path = (event as APIGatewayProxyEvent).queryStringParameters?.kind;
    if (path === 'throw') throw new Error('handler exploded with secret detail');
    if (path === 'malformed') return { statusCode: 'two hundred' };
    return {
      statusCode: 200,
      headers: { 'content-type': 'image/png' },
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
      isBase64Encoded: true,
    };
  },
  wsDefault: () => new Promise(() => undefined),
  wsPing: async (event) => {
    const token =
      (event as APIGatewayProxyEvent).headers.authorization ?? (event as APIGatewayProxyEvent).headers.Authorization;
    if (token === 'Bearer deny')
      return {
        principalId: 'u1',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: '*' }],
        },
      };
    if (token === 'Bearer allow') {
      return {
        principalId: 'user-42',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: '*' }],
        },
        context: { userId: 'user-42', deviceId: 'dev-7' },
      };
    }
    if (token === 'Bearer broken') return 'not a policy';
    if (token === 'Bearer resuming') throw new Error('The database is resuming');
    if (token === 'Bearer db-down') throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    throw new Error('Unauthorized');
  },
};

let gateway: RestGateway;
beforeAll(async () => {
  gateway = await startRestGateway({
    port: 0,
    routes,
    resolve: fixtureResolver(handlers),
    authorizer: 'wsPing',
    binaryMediaTypes: ['application/octet-stream', 'image/*'],
    maxBodyBytes: 64 * 1024,
    integrationTimeoutSeconds: 0.3,
    allowedOrigins: ['http://localhost:5173'],
  });
});
afterAll(() => gateway.close());

const lastEvent = () => {
  const last = seen.at(-1);
  if (!last) throw new Error('the handler was not invoked');
  return last;
};

describe('REST twin: the proxy event (payload v1)', () => {
  it('carries resource, path, method, headers, query, path parameters and body', async () => {
    const response = await fetch(`${gateway.url}/echo/a%20b?x=1&x=2&y=3`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-custom': 'v', 'user-agent': 'twin-test' },
      body: '{"hello":"world"}',
    });
    expect(response.status).toBe(200);
    const { event, context } = lastEvent();
    expect(event).toMatchObject({
      resource: '/echo/{id}',
      path: '/echo/a%20b',
      httpMethod: 'POST',
      pathParameters: { id: 'a b' },
      queryStringParameters: { x: '2', y: '3' },
      multiValueQueryStringParameters: { x: ['1', '2'], y: ['3'] },
      body: '{"hello":"world"}',
      isBase64Encoded: false,
      stageVariables: null,
    });
    expect(event.headers['x-custom']).toBe('v');
    expect(event.multiValueHeaders['x-custom']).toEqual(['v']);
    expect(event.requestContext).toMatchObject({
      stage: 'local',
      resourcePath: '/echo/{id}',
      httpMethod: 'POST',
      path: '/local/echo/a%20b',
      identity: { sourceIp: '127.0.0.1', userAgent: 'twin-test' },
    });
    expect(event.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof event.requestContext.requestTimeEpoch).toBe('number');
    expect(context.functionName).toBe('ciphertalk-local-health');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.awsRequestId).not.toBe(event.requestContext.requestId);
    expect(context.getRemainingTimeInMillis()).toBeGreaterThan(0);
  });

  it('sends null, not empty objects, when there is no query, no path parameter and no body', async () => {
    await fetch(`${gateway.url}/files/a/b/c.txt`);
    const { event } = lastEvent();
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
    expect(event.body).toBeNull();
    expect(event.pathParameters).toEqual({ proxy: 'a/b/c.txt' });
  });

  it('base64-encodes bodies of binary media types', async () => {
    await fetch(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body: new Uint8Array([0, 255, 10]),
    });
    const { event } = lastEvent();
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64')).toEqual(Buffer.from([0, 255, 10]));
  });

  it('prefers literal resources over {param} ones', async () => {
    const response = await fetch(`${gateway.url}/echo/special`);
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('special');
  });
});

describe('REST twin: mapping the result back', () => {
  it('merges headers and multiValueHeaders, sending every cookie', async () => {
    const response = await fetch(`${gateway.url}/echo/1`);
    expect(response.headers.get('x-single')).toBe('one');
    expect(response.headers.getSetCookie()).toEqual(['session=abc; HttpOnly; Secure; SameSite=Strict', 'theme=dark']);
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('decodes an isBase64Encoded body', async () => {
    const response = await fetch(`${gateway.url}/broken?kind=binary`);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(new Uint8Array([0, 1, 2, 255]));
  });
});

describe("REST twin: API Gateway's own answers", () => {
  it('answers an unknown path or method with 403 Missing Authentication Token', async () => {
    for (const [method, path] of [
      ['GET', '/nowhere'],
      ['DELETE', '/echo/1'],
      ['GET', '/upload'],
    ] as const) {
      const { status, body, headers } = await fetchJson(`${gateway.url}${path}`, { method });
      expect(status, `${method} ${path}`).toBe(403);
      expect(body).toEqual({ message: 'Missing Authentication Token' });
      expect(headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    }
  });

  it('answers 502 when the handler throws, without its details', async () => {
    const { status, text } = await fetchJson(`${gateway.url}/broken?kind=throw`);
    expect(status).toBe(502);
    expect(JSON.parse(text)).toEqual({ message: 'Internal server error' });
    expect(text).not.toContain('secret detail');
  });

  it('answers 502 for a malformed proxy result', async () => {
    expect((await fetchJson(`${gateway.url}/broken?kind=malformed`)).status).toBe(502);
  });

  it('answers 504 when the integration times out', async () => {
    const { status, body } = await fetchJson(`${gateway.url}/slow`);
    expect(status).toBe(504);
    expect(body).toEqual({ message: 'Endpoint request timed out' });
  });

  it('answers 413 to a body over the limit, without invoking the handler', async () => {
    const before = seen.length;
    const { status, body } = await fetchJson(`${gateway.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: 'x'.repeat(64 * 1024 + 1),
    });
    expect(status).toBe(413);
    expect(body).toEqual({ message: 'Request Too Long' });
    expect(seen.length).toBe(before);
  });
});

describe('REST twin: over-long URLs and keep-alive after 413', () => {
  it('answers an over-long URL 414 with a JSON body, as API Gateway does, however long it is', async () => {
    for (const length of [MAX_URL_LENGTH + 1, 100_000]) {
      const { status, body, headers } = await fetchJson(`${gateway.url}/echo/1?q=${'a'.repeat(length)}`);
      expect(status).toBe(414);
      expect(body).toEqual({ message: 'Request-URI Too Long' });
      expect(headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await fetchJson(`${gateway.url}/echo/1?q=${'a'.repeat(MAX_URL_LENGTH - 20)}`)).status).toBe(200);
  });

  it('keeps a keep-alive connection usable after answering 413', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const call = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        const req = http.request(`${gateway.url}${path}`, {
          method,
          agent,
          headers: { 'content-type': 'application/json' },
        });
        let socket: unknown;
        req.on('socket', (s) => {
          socket = s;
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, socket }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const tooLarge = await call('POST', '/upload', 'x'.repeat(1024 * 1024));
      expect(tooLarge.status).toBe(413);
      const next = await call('GET', '/echo/after');
      expect(next.status).toBe(200);
      expect(next.socket).toBe(tooLarge.socket);
    } finally {
      agent.destroy();
    }
  });
});

describe('REST twin: the request authorizer', () => {
  const call = (authorization?: string) =>
    fetchJson(`${gateway.url}/private`, authorization ? { headers: { authorization } } : undefined);

  it('answers 401 without invoking anything when the identity source is missing', async () => {
    expect(await call()).toMatchObject({ status: 401, body: { message: 'Unauthorized' } });
  });

  it("answers 401 when the authorizer throws 'Unauthorized'", async () => {
    expect(await call('Bearer nonsense')).toMatchObject({ status: 401, body: { message: 'Unauthorized' } });
  });

  it('answers 403 to an explicit deny', async () => {
    const { status, body } = await call('Bearer deny');
    expect(status).toBe(403);
    expect(body).toEqual({ Message: 'User is not authorized to access this resource with an explicit deny' });
  });

  it('answers 503 unavailable with Retry-After when the authorizer fails (no policy, or it threw), as deployed', async () => {
    for (const token of ['Bearer broken', 'Bearer resuming', 'Bearer db-down']) {
      const response = await fetch(`${gateway.url}/private`, { headers: { authorization: token } });
      expect(response.status, token).toBe(503);
      expect(response.headers.get('retry-after'), token).toBe('5');
      expect(await response.json(), token).toEqual({
        error: { code: 'unavailable', message: 'Service unavailable; try again shortly', retryAfterSeconds: 5 },
      });
    }
  });

  it("hands the authorizer's context and principalId to the handler on allow", async () => {
    const { status, body } = await call('Bearer allow');
    expect(status).toBe(200);
    expect(body).toEqual({
      resource: '/private',
      authorizer: { userId: 'user-42', deviceId: 'dev-7', principalId: 'user-42' },
    });
  });
});

describe('REST twin: CORS preflight', () => {
  it('answers an allowed origin with the methods of the resource', async () => {
    const response = await fetch(`${gateway.url}/echo/1`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST,OPTIONS');
  });

  it("puts CORS headers on the gateway's own errors for an allowed origin, as the deployment's GatewayResponses do", async () => {
    const allowed = await fetch(`${gateway.url}/private`, { headers: { origin: 'http://localhost:5173' } });
    expect(allowed.status).toBe(401);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await fetch(`${gateway.url}/private`, { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(401);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('grants nothing to another origin', async () => {
    const response = await fetch(`${gateway.url}/echo/1`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
