import { Redis } from 'ioredis';
import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import { createRedisCluster } from '#adapters/redis-cluster.ts';
import { RedisConnectionRegistry } from '#adapters/redis-registry.ts';
import { config } from '#config';
import { logger } from '#lib/observability.ts';
import type { ConnectionRegistry } from '#ports/connection-registry.ts';
import { once } from './once.ts';

/**
 * Who is connected, in Redis (ElastiCache in AWS: `data.grantRedis`, which places the function in the VPC).
 * Without REDIS_URL the in-process registry stands in, which is right for one local process only: in
 * Lambda every container would see its own connections, so a function there without REDIS_URL fails on
 * its first cold start instead.
 */
export function registryBackend(settings: { redisUrl: string | undefined; inLambda: boolean }): 'redis' | 'memory' {
  if (settings.redisUrl) return 'redis';
  if (settings.inLambda) {
    throw new Error('Invalid configuration: set REDIS_URL (Lambda has no shared memory between containers)');
  }
  return 'memory';
}

const backend = registryBackend(config);

export const connectionRegistry = once((): ConnectionRegistry => {
  if (backend === 'memory' || !config.redisUrl) return new MemoryConnectionRegistry();
  const client = config.redisCluster
    ? createRedisCluster(config.redisUrl)
    : new Redis(config.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 2 });
  // ioredis reconnects by itself; commands fail meanwhile and callers see that. Log without the URL.
  client.on('error', (error: Error) => logger.warn('redis connection error', { error: error.message }));
  return new RedisConnectionRegistry(client);
});
