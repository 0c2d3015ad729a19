import { describe, expect, it } from 'vitest';
import { registryBackend } from '#adapters/clients/redis.ts';
import { clusterOptions, createRedisCluster, lambdaTimeouts } from '#adapters/redis-cluster.ts';

/** Redis as a Lambda reaches it (issue 13, finding 9): timeouts that fit a function, and no silent stand-in. */
describe('the Valkey cluster client in Lambda', () => {
  it('sets connect, command and slots-refresh timeouts (ioredis refreshes slots within 1 s by default)', () => {
    const options = clusterOptions(new URL('rediss://cache.example.com:6379'));
    expect(options.slotsRefreshTimeout).toBe(lambdaTimeouts.slotsRefreshTimeout);
    expect(lambdaTimeouts.slotsRefreshTimeout).toBeGreaterThan(1000);
    expect(options.redisOptions).toMatchObject({
      connectTimeout: lambdaTimeouts.connectTimeout,
      commandTimeout: lambdaTimeouts.commandTimeout,
      tls: {},
    });
    const cluster = createRedisCluster('rediss://cache.example.com:6379');
    try {
      expect(cluster.options.slotsRefreshTimeout).toBe(lambdaTimeouts.slotsRefreshTimeout);
      expect(cluster.options.redisOptions?.commandTimeout).toBe(lambdaTimeouts.commandTimeout);
    } finally {
      cluster.disconnect();
    }
  });

  it('refuses to start in Lambda without REDIS_URL instead of using the in-process registry', () => {
    expect(() => registryBackend({ redisUrl: undefined, inLambda: true })).toThrow(/set REDIS_URL/);
    expect(registryBackend({ redisUrl: 'rediss://cache.example.com:6379', inLambda: true })).toBe('redis');
    // Locally (npm start, tests) one process may keep its connections in memory.
    expect(registryBackend({ redisUrl: undefined, inLambda: false })).toBe('memory');
  });
});
