import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { connectionRegistry, db, dynamodb, s3 } from '#adapters/clients.ts';
import { config } from '#config';
import { checkHealth } from '#domain/health.ts';
import { json, route } from '#lib/http.ts';
import { logger } from '#lib/observability.ts';

/** GET /health: one real round trip to each dependency; 503 when any is down. */
export const handler = route('GET /health', async () => {
  const health = await checkHealth(
    {
      database: () => db().query('SELECT 1'),
      redis: () => connectionRegistry().ping(),
      s3: () => s3().send(new HeadBucketCommand({ Bucket: config.s3.attachmentsBucket })),
      dynamodb: () => dynamodb().send(new DescribeTableCommand({ TableName: config.dynamodb.rateLimitTable })),
    },
    config.healthCheckTimeoutMs,
    (dependency, reason) => logger.warn('dependency down', { dependency, reason: String(reason) }),
  );
  return json(health.status === 'ok' ? 200 : 503, health);
});
