import type { Db } from '#ports/db.ts';
import { createDataApiDb } from './data-api.ts';
import { createPostgresDb } from './postgres.ts';

/** Which driver reaches PostgreSQL: the Data API in AWS, the wire protocol locally and in tests. */
export type DatabaseConfig =
  | { readonly driver: 'postgres'; readonly url: string }
  | {
      readonly driver: 'data-api';
      readonly resourceArn: string;
      readonly secretArn: string;
      readonly database: string;
      /** A local Data API endpoint; unset in AWS. */
      readonly endpoint?: string | undefined;
    };

export function createDatabase(
  config: DatabaseConfig,
  region: string,
  options: { resumeWaitMs?: number } = {},
): Db & { close(): Promise<void> } {
  if (config.driver === 'postgres') return createPostgresDb(config.url);
  return createDataApiDb({
    resourceArn: config.resourceArn,
    secretArn: config.secretArn,
    database: config.database,
    region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(options.resumeWaitMs === undefined ? {} : { resumeWaitMs: options.resumeWaitMs }),
  });
}
