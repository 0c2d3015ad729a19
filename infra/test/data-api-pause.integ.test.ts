import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { freshSchema } from '@ciphertalk/functions/test/support/services.ts';
import { afterAll, describe, expect, it } from 'vitest';
import { startDataApiServer } from '../local/data-api/server.ts';
import { type LocalStack, startLocalStack } from '../local/stack.ts';

/**
 * The local Data API emulates Aurora Serverless v2 at 0 ACU: after an idle stretch the cluster pauses, and
 * calls answer `DatabaseResumingException` (HTTP 400, as the Data API does) until it has resumed.
 */
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const target = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:ciphertalk-local',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:ciphertalk-local',
};
const select = (client: RDSDataClient, arns = target) =>
  client.send(new ExecuteStatementCommand({ ...arns, sql: 'SELECT 1' })).then(
    () => 'served',
    (error: { name: string; message: string; $metadata: { httpStatusCode?: number } }) => error,
  );

const stops: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

describe('the local Data API’s paused cluster', () => {
  it('answers DatabaseResumingException for the resume time after an idle period, then serves again', async () => {
    const schema = await freshSchema();
    let now = 1_000_000;
    const server = await startDataApiServer({
      databaseUrl: schema.url,
      autoPause: { idleMs: 600_000, resumeMs: 15_000, now: () => now },
    });
    const client = new RDSDataClient({ region: 'us-east-1', endpoint: server.endpoint, credentials });
    stops.push(
      () => schema.drop(),
      () => server.close(),
      async () => client.destroy(),
    );

    expect(await select(client)).toBe('served');
    now += 599_999;
    expect(await select(client)).toBe('served');
    now += 600_000;
    expect(await select(client)).toMatchObject({
      name: 'DatabaseResumingException',
      message: expect.stringContaining('is resuming after being auto-paused'),
      $metadata: { httpStatusCode: 400 },
    });
    now += 14_999;
    expect(await select(client)).toMatchObject({ name: 'DatabaseResumingException' });
    now += 1;
    expect(await select(client)).toBe('served');
    expect(await select(client)).toBe('served');
  });

  it('with DATA_API_PAUSE_AFTER_IDLE_MS the stack’s cluster pauses once started, and resumes after DATA_API_RESUME_MS', async () => {
    const schema = await freshSchema();
    let stack: LocalStack | undefined;
    stops.push(
      () => schema.drop(),
      async () => stack?.stop(),
    );
    // Idle 0: the cluster pauses between any two calls once the stack is up (migrations ran before).
    stack = await startLocalStack({
      dataDir: null,
      ports: { rest: 0, ws: 0, web: null },
      env: {
        DATABASE_URL: schema.url,
        DB_DRIVER: 'data-api',
        DATA_API_PAUSE_AFTER_IDLE_MS: '0',
        DATA_API_RESUME_MS: '500',
      },
    });
    const client = new RDSDataClient({ region: 'us-east-1', endpoint: process.env.DATA_API_ENDPOINT, credentials });
    stops.push(async () => client.destroy());
    const arns = { resourceArn: String(process.env.DB_CLUSTER_ARN), secretArn: String(process.env.DB_SECRET_ARN) };

    expect(await select(client, arns)).toMatchObject({ name: 'DatabaseResumingException' });
    await expect.poll(() => select(client, arns), { timeout: 10_000, interval: 100 }).toBe('served');
  });
});
