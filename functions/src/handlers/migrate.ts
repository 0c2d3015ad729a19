import { db } from '#adapters/clients/db.ts';
import { migrate, migrationsDir } from '#adapters/migrate.ts';
import { logger } from '#lib/observability.ts';

/**
 * The deploy-time migration runner (a CDK trigger, not an API route): applies
 * functions/migrations, bundled next to this file as `migrations/`, through the
 * Data API. Throwing fails the deployment before any API function is updated.
 * It waits for a paused cluster to resume (DB_RESUME_WAIT_MS, set by the stack).
 */
const dir = process.env.LAMBDA_TASK_ROOT ? `${process.env.LAMBDA_TASK_ROOT}/migrations` : migrationsDir;

export const handler = async (): Promise<{ applied: string[] }> => {
  const applied = await migrate(db(), dir);
  logger.info('migrations applied', { applied });
  return { applied };
};
