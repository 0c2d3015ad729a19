import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';

/**
 * A deployment without a sender (`ciphertalk:mailFrom` unset: MAILER=off) has password resets switched off,
 * clearly: both reset routes answer 404 saying so, before touching the database (issue 13, finding 7).
 */
process.env.MAILER = 'off';
const { handler } = await import('../../src/handlers/auth.ts');

const event = (path: string, body: unknown) =>
  ({
    resource: path,
    path,
    httpMethod: 'POST',
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: 'r-1', identity: { sourceIp: '203.0.113.9' } },
  }) as unknown as APIGatewayProxyEvent;
const context = { awsRequestId: 'a', functionName: 'auth', getRemainingTimeInMillis: () => 10_000 } as Context;

describe('password reset without a mail sender', () => {
  it('answers 404 on both reset routes, naming why', async () => {
    const requests = [
      event('/auth/password-reset', { email: 'alice@example.com' }),
      event('/auth/password-reset/confirm', { token: 'x'.repeat(43), newPassword: 'correct horse battery staple' }),
    ];
    for (const request of requests) {
      const result = (await handler(request, context)) as { statusCode: number; body: string };
      expect(result.statusCode, request.path).toBe(404);
      expect(JSON.parse(result.body).error.message).toMatch(/switched off/);
    }
  });
});
