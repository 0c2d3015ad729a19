import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { Redis } from 'ioredis';
import { config } from '#config';
import { AccessTokens } from '#domain/access-tokens.ts';
import type { Realtime } from '#domain/realtime.ts';
import { logger } from '#lib/observability.ts';
import type { AuditLog } from '#ports/audit-log.ts';
import { systemClock } from '#ports/clock.ts';
import type { ConnectionRegistry } from '#ports/connection-registry.ts';
import type { ConnectionsApi } from '#ports/connections-api.ts';
import type { Db } from '#ports/db.ts';
import type { Mailer } from '#ports/mailer.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import type { PasswordHasher } from '#ports/passwords.ts';
import type { RateLimiter } from '#ports/rate-limiter.ts';
import { createArgon2Hasher } from './argon2-passwords.ts';
import { createDynamoDbClient, createS3Client } from './aws.ts';
import { bestEffortAudit, failOpen } from './best-effort.ts';
import { ManagementApiConnections } from './connections-api.ts';
import { createDatabase } from './database.ts';
import { DynamoDbAuditLog } from './dynamodb-audit-log.ts';
import { DynamoDbWindowCounters } from './dynamodb-rate-limiter.ts';
import { loadJwtKey, loadSecret } from './jwt-key.ts';
import { MemoryConnectionRegistry } from './memory-registry.ts';
import { OutboxMailer } from './outbox-mailer.ts';
import { createRedisCluster } from './redis-cluster.ts';
import { RedisConnectionRegistry } from './redis-registry.ts';
import { RedisWindowCounters } from './redis-window-counters.ts';
import { S3ObjectStore } from './s3-object-store.ts';
import { SesMailer } from './ses-mailer.ts';
import { MemoryWindowCounters, SlidingWindowLimiter } from './sliding-window-limiter.ts';

/**
 * The container's clients: each created on first use and then kept for the
 * container's life (a handler that never touches PostgreSQL opens no pool).
 */
function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}

/** Like `once` for async creation; a failure is not kept, so the next call tries again. */
function onceAsync<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= create().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}

export const db = once((): Db => createDatabase(config.database, config.region));

export const redis = once(() => {
  if (!config.redisUrl) return null;
  const client = config.redisCluster
    ? createRedisCluster(config.redisUrl)
    : new Redis(config.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 2 });
  // ioredis reconnects by itself; commands fail meanwhile and callers see that. Log without the URL.
  client.on('error', (error: Error) => logger.warn('redis connection error', { error: error.message }));
  return client;
});

export const connectionRegistry = once((): ConnectionRegistry => {
  const client = redis();
  return client ? new RedisConnectionRegistry(client) : new MemoryConnectionRegistry();
});

export const connectionsApi = once(
  (): ConnectionsApi => new ManagementApiConnections(config.wsManagementEndpoint, config.region),
);

export const s3 = once((): S3Client => createS3Client(config.region, config.s3.endpoint));
export const dynamodb = once((): DynamoDBClient => createDynamoDbClient(config.region, config.dynamodb.endpoint));

export const passwords = once((): PasswordHasher => createArgon2Hasher());

export const accessTokens = onceAsync(
  async () =>
    new AccessTokens({
      key: await loadJwtKey({ secret: config.jwt.secret, secretArn: config.jwt.secretArn, region: config.region }),
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      ttlSeconds: config.jwt.accessTokenTtlSeconds,
      clock: systemClock,
    }),
);

export const auditLog = once(
  (): AuditLog => bestEffortAudit(new DynamoDbAuditLog(dynamodb(), config.dynamodb.auditTable)),
);

/** The REST routes' limits: sliding windows over counters in DynamoDB. */
export const rateLimiter = once(
  (): RateLimiter =>
    failOpen(new SlidingWindowLimiter(new DynamoDbWindowCounters(dynamodb(), config.dynamodb.rateLimitTable))),
);

/**
 * The real-time limits (sends, call signals, receipts): the same sliding windows over Redis counters, one
 * pipelined round trip per frame instead of a DynamoDB call; in-process counters when there is no Redis.
 */
export const realtimeLimiter = once((): RateLimiter => {
  const client = redis();
  return failOpen(new SlidingWindowLimiter(client ? new RedisWindowCounters(client) : new MemoryWindowCounters()));
});

export const mailer = once((): Mailer => {
  if (config.mail.mailer === 'outbox') return new OutboxMailer(config.mail.outboxDir ?? '.local/outbox');
  return new SesMailer(new SESv2Client({ region: config.region }), config.mail.from);
});

/** Who is connected, and how to reach them: what fan-out and presence take. */
export const realtime = once((): Realtime => ({ registry: connectionRegistry(), connections: connectionsApi() }));

/** The attachments bucket: presigned uploads and downloads, size checks, tags. */
export const objectStore = once((): ObjectStore => new S3ObjectStore(s3(), config.s3.attachmentsBucket));

/** The TURN server's shared secret (null when no TURN server is configured), read once per container. */
export const turnSecret = onceAsync(
  async (): Promise<string | null> =>
    (await loadSecret({
      secret: config.ice.turnSecret,
      secretArn: config.ice.turnSecretArn,
      region: config.region,
    })) ?? null,
);
