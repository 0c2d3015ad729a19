import { ErrorBody } from '@ciphertalk/shared/protocol';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { AppError, UnavailableError } from '#domain/errors.ts';
import { httpHandler, json } from '#lib/http.ts';

const context = {
  awsRequestId: 'req-1',
  functionName: 'test',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:test',
  memoryLimitInMB: '256',
  logGroupName: 'g',
  logStreamName: 's',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 10_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;

function event(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/things',
    path: '/things',
    httpMethod: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: 'http://localhost:5173' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: {
      requestId: 'api-req-1',
      identity: { sourceIp: '203.0.113.9' },
    } as APIGatewayProxyEvent['requestContext'],
    ...overrides,
  };
}

const Body = z.object({ name: z.string().min(1), password: z.string().min(12) });
const created = httpHandler(
  { body: Body, query: z.object({ dryRun: z.enum(['yes', 'no']).optional() }) },
  async (req) =>
    json(
      201,
      { name: req.body.name, dryRun: req.query.dryRun ?? 'no', ip: req.sourceIp },
      { cookies: ['a=1; HttpOnly', 'b=2'] },
    ),
);
const failing = (error: unknown) =>
  httpHandler({}, async () => {
    throw error;
  });

const call = async (
  handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>,
  e: APIGatewayProxyEvent,
) => {
  const result = await handler(e, context);
  return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
};

describe('httpHandler: the REST handler chain', () => {
  afterEach(() => vi.restoreAllMocks());

  it('hands the handler a validated body and query, and maps cookies to multiValueHeaders', async () => {
    const result = await call(
      created,
      event({
        body: JSON.stringify({ name: 'Ada', password: 'correct horse battery' }),
        queryStringParameters: { dryRun: 'yes' },
      }),
    );
    expect(result.statusCode).toBe(201);
    expect(result.json).toEqual({ name: 'Ada', dryRun: 'yes', ip: '203.0.113.9' });
    expect(result.multiValueHeaders?.['set-cookie']).toEqual(['a=1; HttpOnly', 'b=2']);
    expect(result.headers?.['content-type']).toMatch(/application\/json/);
  });

  it('answers malformed JSON with 400 invalid_json', async () => {
    const result = await call(created, event({ body: '{"name": "Ada",' }));
    expect(result.statusCode).toBe(400);
    expect(result.json).toEqual({ error: { code: 'invalid_json', message: 'The body is not valid JSON' } });
  });

  it('answers a body that fails the schema with 400 validation_failed naming the fields, never their values', async () => {
    const result = await call(created, event({ body: JSON.stringify({ name: '', password: 'hunter2' }) }));
    expect(result.statusCode).toBe(400);
    expect(result.json.error.code).toBe('validation_failed');
    expect(result.json.error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['name', 'password']);
    expect(result.body).not.toContain('hunter2');
  });

  it('answers a missing body with 400 and a non-JSON content type with 415', async () => {
    expect((await call(created, event({ body: null }))).statusCode).toBe(400);
    const wrongType = await call(created, event({ headers: { 'content-type': 'text/plain' }, body: '{}' }));
    expect(wrongType.statusCode).toBe(415);
    expect(wrongType.json.error.code).toBe('unsupported_media_type');
  });

  it('answers a bad query string with 400', async () => {
    const result = await call(
      created,
      event({ body: '{"name":"a","password":"123456789012"}', queryStringParameters: { dryRun: 'maybe' } }),
    );
    expect(result.statusCode).toBe(400);
    expect(result.json.error.issues[0].path).toBe('dryRun');
  });

  it('passes an AppError through with its status, code and message', async () => {
    const result = await call(failing(new AppError(409, 'conflict', 'Already taken')), event());
    expect(result).toMatchObject({ statusCode: 409, json: { error: { code: 'conflict', message: 'Already taken' } } });
  });

  it('answers a dependency that is coming back (a resuming database) with 503 unavailable and Retry-After', async () => {
    const result = await call(
      failing(new UnavailableError(new Error('The database is resuming'), { retryAfterSeconds: 5 })),
      event(),
    );
    expect(result.statusCode).toBe(503);
    expect(result.headers?.['retry-after']).toBe('5');
    expect(result.json).toEqual({
      error: { code: 'unavailable', message: 'Service unavailable; try again shortly', retryAfterSeconds: 5 },
    });
    expect(ErrorBody.safeParse(result.json).success).toBe(true);
  });

  it('hides the details of an unexpected error behind a bare 500', async () => {
    const error = new Error('connection to db-prod.internal:5432 failed for user admin');
    const result = await call(failing(error), event());
    expect(result.statusCode).toBe(500);
    expect(result.json).toEqual({ error: { code: 'internal', message: 'Internal server error' } });
    expect(result.body).not.toContain('db-prod');
  });

  it('allows CORS only for configured origins, on success and on error alike', async () => {
    const allowed = await call(failing(new AppError(404, 'not_found', 'Not found')), event());
    expect(allowed.headers?.['access-control-allow-origin']).toBe('http://localhost:5173');
    expect(allowed.headers?.['access-control-allow-credentials']).toBe('true');
    const other = await call(
      failing(new AppError(404, 'not_found', 'Not found')),
      event({ headers: { origin: 'https://evil.example' } }),
    );
    expect(other.headers?.['access-control-allow-origin']).toBeUndefined();
  });

  it('never writes the body, a password or a token to the logs', async () => {
    const lines: string[] = [];
    const capture = (chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    await call(
      created,
      event({
        headers: { 'content-type': 'application/json', authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.secret-token' },
        body: JSON.stringify({ name: 'Ada', password: 'correct horse battery' }),
      }),
    );
    await call(failing(new Error('boom')), event({ body: JSON.stringify({ password: 'correct horse battery' }) }));
    const logged = lines.join('');
    expect(logged).toContain('"requestId":"api-req-1"');
    expect(logged).not.toContain('correct horse battery');
    expect(logged).not.toContain('secret-token');
  });
});
