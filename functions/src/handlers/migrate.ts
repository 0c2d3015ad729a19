import { createDatabase } from '#adapters/database.ts';
import { migrate, migrationsDir } from '#adapters/migrate.ts';
import { config } from '#config';
import { logger } from '#lib/observability.ts';

/**
 * The deploy-time migration runner (a CDK trigger, not an API route): applies
 * functions/migrations, bundled next to this file as `migrations/`, through the
 * Data API. Throwing fails the deployment before any API function is updated.
 */
const dir = process.env.LAMBDA_TASK_ROOT ? `${process.env.LAMBDA_TASK_ROOT}/migrations` : migrationsDir;

export const handler = async (): Promise<{ applied: string[] }> => {
  const db = createDatabase(config.database, config.region);
  try {
    const applied = await migrate(db, dir);
    logger.info('migrations applied', { applied });
    return { applied };
  } finally {
    await db.close();
  }
};
