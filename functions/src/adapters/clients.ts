import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { config } from '#config';
import { logger } from '#lib/observability.ts';
import type { ConnectionRegistry } from '#ports/connection-registry.ts';
import type { ConnectionsApi } from '#ports/connections-api.ts';
import type { Db } from '#ports/db.ts';
import { createDynamoDbClient, createS3Client } from './aws.ts';
import { ManagementApiConnections } from './connections-api.ts';
import { MemoryConnectionRegistry } from './memory-registry.ts';
import { createPostgresDb } from './postgres.ts';
import { RedisConnectionRegistry } from './redis-registry.ts';

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

export const db = once((): Db => createPostgresDb(config.databaseUrl));

export const redis = once(() => {
  if (!config.redisUrl) return null;
  const client = new Redis(config.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 2 });
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
