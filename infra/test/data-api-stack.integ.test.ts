import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ApiClient, registered } from './support/api.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/**
 * The real handlers on the Data API driver, as in AWS: the local stack with
 * DB_DRIVER=data-api puts the local RDS Data API in front of PostgreSQL, runs
 * the migrations through it, and gives the functions DB_* instead of DATABASE_URL.
 */
const fx = stackOnFreshSchema({
  env: {
    DB_DRIVER: 'data-api',
    JWT_SECRET: 'data-api-stack-test-secret-data-api-stack-test',
    RATE_LIMIT_MULTIPLIER: '100',
  },
});

describe('local stack on the Data API driver', () => {
  it('applies the migrations through the Data API and reports the database healthy', async () => {
    expect(process.env.DATABASE_URL).toBeUndefined();
    expect(process.env.DB_CLUSTER_ARN).toMatch(/^arn:aws:rds:/);
    expect(process.env.DATA_API_ENDPOINT).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const client = new pg.Client({ connectionString: fx.schema.url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0]?.n).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
    const health = await new ApiClient(fx.stack.restUrl).get('/health');
    expect(health.body.database).toBe('ok');
  });

  it('serves accounts end to end: register, /me, profile change, refresh, logout', async () => {
    const { client, userId } = await registered(fx.stack.restUrl, 'dataapi');
    const me = await client.get('/me');
    expect(me.status).toBe(200);
    expect(JSON.stringify(me.body)).toContain(userId);

    expect((await client.patch('/me', { displayName: 'Renamed over the Data API' })).status).toBeLessThan(300);
    expect(JSON.stringify((await client.get('/me')).body)).toContain('Renamed over the Data API');

    expect((await client.post('/auth/refresh')).status).toBe(200);
    expect((await client.get('/me')).status).toBe(200);
    expect((await client.post('/auth/logout')).status).toBeLessThan(300);
    expect((await client.get('/me')).status).toBe(401);
  });
});
