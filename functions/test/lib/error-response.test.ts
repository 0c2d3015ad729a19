import { describe, expect, it } from 'vitest';
import { isDependencyDown } from '#adapters/dependency-errors.ts';
import { RateLimitedError } from '#domain/rate-limits.ts';
import { toErrorBody } from '#lib/error-response.ts';

/** A dependency that is down or restarting is a retryable 503, never a 500; 429s carry their retry time. */
describe('toErrorBody', () => {
  const pgShutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
  const redisDown = Object.assign(new Error('Reached the max retries per request limit'), {
    name: 'MaxRetriesPerRequestError',
  });
  const resuming = Object.assign(new Error('The database is resuming'), { name: 'DatabaseResumingException' });
  const wrapped = new Error('query failed', { cause: refused });
  const terminated = new Error('Connection terminated unexpectedly');

  it.each([
    ['PostgreSQL shutting down', pgShutdown],
    ['a refused connection', refused],
    ['Redis unreachable', redisDown],
    ['Aurora resuming', resuming],
    ['a wrapped cause', wrapped],
    ['a connection cut', terminated],
  ])('answers %s 503 unavailable with retryAfterSeconds', (_, error) => {
    expect(isDependencyDown(error)).toBe(true);
    const { status, body, retryAfterSeconds } = toErrorBody(error);
    expect(status).toBe(503);
    expect(body.error).toMatchObject({ code: 'unavailable', retryAfterSeconds: expect.any(Number) });
    expect(retryAfterSeconds).toBe(body.error.retryAfterSeconds);
  });

  it('keeps bugs a bare 500 without a retry time', () => {
    const bug = Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' });
    expect(isDependencyDown(bug)).toBe(false);
    expect(toErrorBody(bug)).toEqual({
      status: 500,
      body: { error: { code: 'internal', message: 'Internal server error' } },
    });
  });

  it('puts a 429’s retry time in the body too', () => {
    const { status, body, retryAfterSeconds } = toErrorBody(new RateLimitedError(17, 'messagesPerDevice'));
    expect(status).toBe(429);
    expect(body.error).toMatchObject({ code: 'rate_limited', retryAfterSeconds: 17 });
    expect(retryAfterSeconds).toBe(17);
  });
});
