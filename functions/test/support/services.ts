import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Real services for integration tests. `.ci/run` starts PostgreSQL and Redis
 * and creates the test database; locally the defaults match a stock install.
 */
export const testDatabaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/ciphertalk_test';
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A fresh schema in the test database, so test files never see each other's
 * tables; the returned URL makes it every connection's search_path.
 */
export async function freshSchema(): Promise<{ url: string; drop(): Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testDatabaseUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(testDatabaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: testDatabaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA ${schema} CASCADE`);
      await client.end();
    },
  };
}

export const uniquePrefix = (label: string) => `test:${label}:${randomBytes(4).toString('hex')}:`;
