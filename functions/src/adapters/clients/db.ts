import { createDatabase } from '#adapters/database.ts';
import { config, required } from '#config';
import type { Db } from '#ports/db.ts';
import { once } from './once.ts';

/** PostgreSQL: the Data API on the cluster in AWS (`data.grantDatabase`), the wire protocol locally. */
const database = required(config.database, 'DATABASE_URL, or DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME');

export const db = once((): Db & { close(): Promise<void> } =>
  createDatabase(database, config.region, { resumeWaitMs: config.databaseResumeWaitMs }),
);
