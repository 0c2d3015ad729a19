import type { Cluster, Redis } from 'ioredis';
import type { WindowCounters } from '#ports/rate-limiter.ts';

/**
 * Window counters in Redis (`limit:{rule#key#window}`), for the limits on the real-time path: a frame costs
 * one auto-pipelined round trip (INCRBY, EXPIRE NX, GET), not a DynamoDB call. Single-key commands only, so
 * they run on ElastiCache's cluster mode.
 */
export class RedisWindowCounters implements WindowCounters {
  constructor(private readonly redis: Redis | Cluster) {}

  async add(key: string, amount: number, ttlSeconds: number): Promise<number> {
    const k = `limit:${key}`;
    const [count] = await Promise.all([this.redis.incrby(k, amount), this.redis.expire(k, ttlSeconds, 'NX')]);
    return count;
  }

  async read(key: string): Promise<number> {
    return Number((await this.redis.get(`limit:${key}`)) ?? 0);
  }
}
