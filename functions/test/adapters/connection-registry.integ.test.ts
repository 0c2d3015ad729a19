import { Redis } from 'ioredis';
import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import { RedisConnectionRegistry } from '#adapters/redis-registry.ts';
import { connectionRegistryContract } from '../contracts/connection-registry.contract.ts';
import { testRedisUrl, uniquePrefix } from '../support/services.ts';

connectionRegistryContract('in-process map', async () => ({
  registry: new MemoryConnectionRegistry(),
  tearDown: async () => undefined,
}));

connectionRegistryContract('Redis', async () => {
  const keyPrefix = uniquePrefix('registry');
  const redis = new Redis(testRedisUrl, { keyPrefix, enableAutoPipelining: true });
  return {
    registry: new RedisConnectionRegistry(redis),
    async tearDown() {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.del(...keys.map((key) => key.slice(keyPrefix.length)));
      redis.disconnect();
    },
  };
});
