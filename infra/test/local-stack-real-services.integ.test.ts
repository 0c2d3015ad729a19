import { testDatabaseUrl, testRedisUrl, uniquePrefix } from '@ciphertalk/functions/test/support/services.ts';
import { describe, expect, it } from 'vitest';
import { fetchJson } from './support/fixtures.ts';
import { closed, frames, openSocket } from './support/stack.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';
import { deviceSession } from './support/ws-auth.ts';

/** The same stack with DATABASE_URL and REDIS_URL pointing at the running PostgreSQL and Redis. */
const fx = stackOnFreshSchema({ redisDb: 3 });

describe('local stack on real PostgreSQL and Redis', () => {
  it('uses the services the environment names, and prints no password', () => {
    // The test services' addresses (TEST_DATABASE_URL, TEST_REDIS_URL), whichever ports they are on.
    expect(fx.stack.services.database).toContain(new URL(testDatabaseUrl).host);
    expect(fx.stack.services.redis).toContain(new URL(testRedisUrl).host);
  });

  it('ran the migrations in the given database', async () => {
    const pg = (await import('pg')).default;
    const client = new pg.Client({ connectionString: fx.schema.url });
    await client.connect();
    const { rows } = await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
    await client.end();
    expect(rows).toEqual([{ present: true }]);
  });

  it('answers GET /health with every dependency ok', async () => {
    const { status, body } = await fetchJson(`${fx.stack.restUrl}/health`);
    expect(status).toBe(200);
    expect(body).toEqual({ status: 'ok', database: 'ok', redis: 'ok', s3: 'ok', dynamodb: 'ok' });
  });

  it('keeps connections in Redis while they are open, and removes them on close', async () => {
    const marker = uniquePrefix('ws');
    const before = new Set(await fx.redis.keys('conn:*'));
    const { ticketUrl, userId } = await deviceSession(fx.stack.restUrl, fx.stack.wsUrl);
    const socket = await openSocket(await ticketUrl(`&marker=${encodeURIComponent(marker)}`));
    const inbox = frames(socket);
    socket.send(JSON.stringify({ action: 'ping', id: 'p' }));
    await inbox.next();
    const added = (await fx.redis.keys('conn:*')).filter((key) => !before.has(key));
    expect(added).toHaveLength(1);
    const record = JSON.parse((await fx.redis.get(added[0] as string)) ?? 'null');
    expect(record).toMatchObject({ userId, deviceId: 1, connectionId: (added[0] as string).slice('conn:'.length) });
    expect(await fx.redis.ttl(added[0] as string)).toBeGreaterThan(2 * 60 * 60);

    socket.close();
    await closed(socket);
    await expect.poll(() => fx.redis.exists(added[0] as string)).toBe(0);
  });
});
