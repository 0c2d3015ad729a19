import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import { RedisConnectionRegistry } from '#adapters/redis-registry.ts';
import type { ConnectionRegistry } from '#ports/connection-registry.ts';
import { once } from './once.ts';
import { redis } from './redis.ts';

/** Who is connected: Redis, or the in-process registry for one local process without REDIS_URL. */
export const connectionRegistry = once((): ConnectionRegistry => {
  const client = redis();
  return client ? new RedisConnectionRegistry(client) : new MemoryConnectionRegistry();
});
