import { Cluster } from 'ioredis';

/**
 * ElastiCache Serverless: the cluster protocol, over TLS with a `rediss://`
 * URL. Its nodes are addressed by name, so DNS lookups are left to the TLS
 * connection (ioredis's advice for ElastiCache with TLS).
 */
export function createRedisCluster(url: string): Cluster {
  const { hostname, port, username, password, protocol } = new URL(url);
  return new Cluster([{ host: hostname, port: Number(port || 6379) }], {
    dnsLookup: (address, callback) => callback(null, address),
    enableAutoPipelining: true,
    redisOptions: {
      maxRetriesPerRequest: 2,
      ...(protocol === 'rediss:' ? { tls: {} } : {}),
      ...(username ? { username: decodeURIComponent(username) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
    },
  });
}
