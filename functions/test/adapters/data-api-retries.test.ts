import { describe, expect, it } from 'vitest';
import { createDataApiDb, DataApiError } from '#adapters/data-api.ts';
import { UnavailableError } from '#domain/errors.ts';
import { toErrorBody } from '#lib/error-response.ts';

/**
 * The Data API adapter's two retries (issue 13, findings 4 and 5), against a scripted client: the cluster
 * resuming from 0 ACU, and the secret being rotated under a running function.
 */
const target = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:c',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:s',
  database: 'ciphertalk',
  region: 'us-east-1',
};
const row = { columnMetadata: [{ name: 'one', typeName: 'int4' }], records: [[{ longValue: 1 }]] };

/** A client answering each call with the next of `answers` (an Error is thrown), counting calls. */
function scripted(answers: readonly (Error | object)[]) {
  const client = {
    calls: 0,
    send: async () => {
      const answer = answers[Math.min(client.calls, answers.length - 1)];
      client.calls += 1;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    destroy: () => undefined,
  };
  return client;
}
const named = (name: string, message: string) => Object.assign(new Error(message), { name });
const resuming = () =>
  named('DatabaseResumingException', 'The Aurora DB instance is resuming after being auto-paused.');
const authFailed = () =>
  named('BadRequestException', 'FATAL: password authentication failed for user "ciphertalk_admin"; SQLState: 28P01');

describe('the Data API adapter on a paused cluster (finding 5)', () => {
  it('answers 503 unavailable with retryAfterSeconds at once on a request path (no wait)', async () => {
    const client = scripted([resuming()]);
    const db = createDataApiDb({ ...target, client: client as never, resumeWaitMs: 0 });
    const error = await db.query('SELECT 1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnavailableError);
    expect(client.calls).toBe(1);
    // What a REST handler and a WebSocket error frame carry: the engine retries it with backoff.
    expect(toErrorBody(error)).toEqual({
      status: 503,
      body: { error: { code: 'unavailable', message: 'Service unavailable; try again shortly', retryAfterSeconds: 5 } },
      retryAfterSeconds: 5,
    });
  });

  it('waits for the resume within its budget (the migrator, the retention job)', async () => {
    const client = scripted([resuming(), resuming(), row]);
    const db = createDataApiDb({ ...target, client: client as never, resumeWaitMs: 60_000 });
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(client.calls).toBe(3);
  });
});

describe('the Data API adapter while the secret rotates (finding 4)', () => {
  it('retries an authentication failure once, and the retry reads the rotated secret', async () => {
    const client = scripted([authFailed(), row]);
    const db = createDataApiDb({ ...target, client: client as never, authRetryDelayMs: 0 });
    expect(await db.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(client.calls).toBe(2);
  });

  it('gives up after that one retry, and never retries other errors', async () => {
    const twice = scripted([authFailed(), authFailed(), row]);
    const db = createDataApiDb({ ...target, client: twice as never, authRetryDelayMs: 0 });
    await expect(db.query('SELECT 1')).rejects.toBeInstanceOf(DataApiError);
    expect(twice.calls).toBe(2);

    const duplicate = scripted([named('BadRequestException', 'duplicate key; SQLState: 23505'), row]);
    const other = createDataApiDb({ ...target, client: duplicate as never, authRetryDelayMs: 0 });
    await expect(other.query('SELECT 1')).rejects.toMatchObject({ code: '23505' });
    expect(duplicate.calls).toBe(1);
  });
});
