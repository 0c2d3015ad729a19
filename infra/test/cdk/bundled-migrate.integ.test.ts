import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { freshSchema } from '@ciphertalk/functions/test/support/services.ts';
import { App, Stack } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CipherTalkFunction } from '../../lib/constructs/function.ts';
import { repoRoot } from '../../lib/function-access.ts';
import { startDataApiServer } from '../../local/data-api/server.ts';

/**
 * The migrator as Lambda runs it: bundled by the stack's base construct
 * (ESM, require banner, functions/migrations copied in), loaded from the
 * bundle, applying the real migrations through the Data API (the local
 * endpoint over PostgreSQL).
 */
const outdir = join(repoRoot, '.local', `cdk-test-${randomBytes(4).toString('hex')}`);
let bundle: string;
let schema: Awaited<ReturnType<typeof freshSchema>>;
let server: Awaited<ReturnType<typeof startDataApiServer>>;

beforeAll(async () => {
  const app = new App({ outdir });
  const stack = new Stack(app, 'Bundle');
  new CipherTalkFunction(stack, 'Fn-migrate', {
    name: 'migrate',
    description: 'migrator',
    timeoutSeconds: 60,
    memoryMb: 256,
    environment: {},
    logRetention: RetentionDays.ONE_DAY,
    withMigrations: true,
  });
  app.synth();
  const asset = readdirSync(outdir).find((entry) => existsSync(join(outdir, entry, 'index.mjs')));
  bundle = join(outdir, asset ?? 'missing');
  schema = await freshSchema();
  server = await startDataApiServer({ databaseUrl: schema.url });
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:000000000000:cluster:ciphertalk-local',
    DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:ciphertalk-local',
    DB_NAME: 'ciphertalk_test',
    DATA_API_ENDPOINT: server.endpoint,
    ATTACHMENTS_BUCKET: 'unused-bucket',
    RATE_LIMIT_TABLE: 'unused-table',
    AUDIT_TABLE: 'unused-table',
    WS_MANAGEMENT_ENDPOINT: 'https://unused.execute-api.us-east-1.amazonaws.com/prod',
    JWT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:unused',
    LAMBDA_TASK_ROOT: bundle,
  });
}, 60_000);

afterAll(async () => {
  await server?.close();
  await schema?.drop();
  rmSync(outdir, { recursive: true, force: true });
});

describe('the bundled migrator', () => {
  it('carries the migrations and applies each once through the Data API', async () => {
    const migrations = readdirSync(join(repoRoot, 'functions', 'migrations')).filter((f) => f.endsWith('.sql'));
    expect(readdirSync(join(bundle, 'migrations')).sort()).toEqual(migrations.sort());

    const { handler } = (await import(pathToFileURL(join(bundle, 'index.mjs')).href)) as {
      handler: () => Promise<{ applied: string[] }>;
    };
    expect(await handler()).toEqual({ applied: migrations.sort() });
    expect(await handler()).toEqual({ applied: [] });

    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT name FROM schema_migrations ORDER BY name');
      expect(rows.map((r) => r.name)).toEqual(migrations.sort());
    } finally {
      await client.end();
    }
  });
});
