import { db } from '#adapters/clients/db.ts';
import { definitionsDir, migrate, migrationsDir } from '#adapters/migrate.ts';
import { logger } from '#lib/observability.ts';

/**
 * The deploy-time migration runner (a CDK trigger, not an API route): applies
 * functions/migrations and then functions/definitions, bundled next to this file
 * as `migrations/` and `definitions/`, through the Data API. Throwing fails the
 * deployment before any API function is updated.
 * It waits for a paused cluster to resume (DB_RESUME_WAIT_MS, set by the stack).
 */
const root = process.env.LAMBDA_TASK_ROOT;
const dir = root ? `${root}/migrations` : migrationsDir;
const definitions = root ? `${root}/definitions` : definitionsDir;

export const handler = async (): Promise<{ applied: string[] }> => {
  const applied = await migrate(db(), dir, definitions);
  logger.info('migrations applied', { applied });
  return { applied };
};
