import { Redis } from 'ioredis';
import { createRedisCluster } from '#adapters/redis-cluster.ts';
import { config } from '#config';
import { logger } from '#lib/observability.ts';
import { once } from './once.ts';

/**
 * Who is connected, in Redis (ElastiCache in AWS: `data.grantRedis`, which places the function in the VPC).
 * Without REDIS_URL the in-process stand-ins are used, which is right for one local process only: in
 * Lambda every container would see its own connections and counters, so a function there without
 * REDIS_URL fails on its first cold start instead.
 */
export function registryBackend(settings: { redisUrl: string | undefined; inLambda: boolean }): 'redis' | 'memory' {
  if (settings.redisUrl) return 'redis';
  if (settings.inLambda) {
    throw new Error('Invalid configuration: set REDIS_URL (Lambda has no shared memory between containers)');
  }
  return 'memory';
}

const backend = registryBackend(config);

/** The container's Redis client (one for the registry and the real-time limits), or null without Redis. */
export const redis = once((): Redis | ReturnType<typeof createRedisCluster> | null => {
  if (backend === 'memory' || !config.redisUrl) return null;
  const client = config.redisCluster
    ? createRedisCluster(config.redisUrl)
    : new Redis(config.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 2 });
  // ioredis reconnects by itself; commands fail meanwhile and callers see that. Log without the URL.
  client.on('error', (error: Error) => logger.warn('redis connection error', { error: error.message }));
  return client;
});
