import { connectionRegistry } from '#adapters/clients/connection-registry.ts';
import { db } from '#adapters/clients/db.ts';
import { probeBucket, probeTable } from '#adapters/clients/health-probes.ts';
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
      s3: probeBucket,
      dynamodb: probeTable,
    },
    config.healthCheckTimeoutMs,
    (dependency, reason) => logger.warn('dependency down', { dependency, reason: String(reason) }),
  );
  return json(health.status === 'ok' ? 200 : 503, health);
});
