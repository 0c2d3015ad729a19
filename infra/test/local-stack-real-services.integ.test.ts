import { freshSchema, testRedisUrl, uniquePrefix } from '@ciphertalk/functions/test/support/services.ts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { fetchJson } from './support/fixtures.ts';
import { closed, frames, openSocket } from './support/stack.ts';
import { deviceSession } from './support/ws-auth.ts';

/** The same stack with DATABASE_URL and REDIS_URL pointing at the running PostgreSQL and Redis. */
let stack: LocalStack;
let schema: Awaited<ReturnType<typeof freshSchema>>;
let redis: Redis;
const redisDb = 3;

beforeAll(async () => {
  schema = await freshSchema();
  const redisUrl = new URL(testRedisUrl);
  redisUrl.pathname = `/${redisDb}`;
  redis = new Redis(redisUrl.toString());
  stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: null },
    env: { DATABASE_URL: schema.url, REDIS_URL: redisUrl.toString() },
  });
});
afterAll(async () => {
  await stack?.stop();
  redis?.disconnect();
  await schema?.drop();
});

describe('local stack on real PostgreSQL and Redis', () => {
  it('uses the services the environment names, and prints no password', () => {
    expect(stack.services.database).toContain('127.0.0.1:5432');
    expect(stack.services.redis).toContain('127.0.0.1:6379');
  });

  it('ran the migrations in the given database', async () => {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    const { rows } = await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
    await client.end();
    expect(rows).toEqual([{ present: true }]);
  });

  it('answers GET /health with every dependency ok', async () => {
    const { status, body } = await fetchJson(`${stack.restUrl}/health`);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', database: 'ok', redis: 'ok', s3: 'ok', dynamodb: 'ok' });
  });

  it('keeps connections in Redis while they are open, and removes them on close', async () => {
    const marker = uniquePrefix('ws');
    const before = new Set(await redis.keys('conn:*'));
    const { ticketUrl, userId } = await deviceSession(stack.restUrl, stack.wsUrl);
    const socket = await openSocket(await ticketUrl(`&marker=${encodeURIComponent(marker)}`));
    const inbox = frames(socket);
    socket.send(JSON.stringify({ action: 'ping', id: 'p' }));
    await inbox.next();
    const added = (await redis.keys('conn:*')).filter((key) => !before.has(key));
    expect(added).toHaveLength(1);
    const record = JSON.parse((await redis.get(added[0] as string)) ?? 'null');
    expect(record).toMatchObject({ userId, deviceId: 1, connectionId: (added[0] as string).slice('conn:'.length) });
    expect(await redis.ttl(added[0] as string)).toBeGreaterThan(2 * 60 * 60);

    socket.close();
    await closed(socket);
    await expect.poll(() => redis.exists(added[0] as string)).toBe(0);
  });
});
