import { Cluster, type ClusterOptions } from 'ioredis';

/**
 * Timeouts for a Lambda: a function has seconds, not minutes, and ioredis' defaults wait long (no command
 * timeout, 10 s to connect) or too little (1 s to refresh the slots map, a known cause of "Failed to refresh
 * slots cache" on ElastiCache with TLS, whose handshake alone can take most of that on a cold container).
 */
export const lambdaTimeouts = {
  /** TCP + TLS connect of one node. */
  connectTimeout: 2000,
  /** One command, queue time included: a frame's handler answers an error instead of hanging to its timeout. */
  commandTimeout: 1500,
  /** CLUSTER SLOTS at start and on MOVED; above a cold TLS handshake. */
  slotsRefreshTimeout: 3000,
} as const;

/** The options createRedisCluster gives ioredis (exported for the test that pins them). */
export function clusterOptions(url: URL): ClusterOptions {
  const { username, password, protocol } = url;
  return {
    dnsLookup: (address, callback) => callback(null, address),
    enableAutoPipelining: true,
    slotsRefreshTimeout: lambdaTimeouts.slotsRefreshTimeout,
    // A node that cannot be reached is retried a few times, quickly, then the command fails.
    clusterRetryStrategy: (times) => (times > 3 ? null : Math.min(100 * times, 500)),
    redisOptions: {
      maxRetriesPerRequest: 2,
      connectTimeout: lambdaTimeouts.connectTimeout,
      commandTimeout: lambdaTimeouts.commandTimeout,
      ...(protocol === 'rediss:' ? { tls: {} } : {}),
      ...(username ? { username: decodeURIComponent(username) } : {}),
      ...(password ? { password: decodeURIComponent(password) } : {}),
    },
  };
}

/**
 * ElastiCache Serverless: the cluster protocol, over TLS with a `rediss://`
 * URL. Its nodes are addressed by name, so DNS lookups are left to the TLS
 * connection (ioredis's advice for ElastiCache with TLS).
 */
export function createRedisCluster(url: string): Cluster {
  const parsed = new URL(url);
  return new Cluster([{ host: parsed.hostname, port: Number(parsed.port || 6379) }], clusterOptions(parsed));
}
