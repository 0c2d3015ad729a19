import type { Db } from '#ports/db.ts';
import { createDataApiDb } from './data-api.ts';

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
  if (config.driver === 'postgres') return lazyPostgres(config.url);
  return createDataApiDb({
    resourceArn: config.resourceArn,
    secretArn: config.secretArn,
    database: config.database,
    region,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(options.resumeWaitMs === undefined ? {} : { resumeWaitMs: options.resumeWaitMs }),
  });
}

/**
 * node-postgres, loaded on the first query: a Lambda (Data API) never loads pg. esbuild keeps a dynamic
 * import of a bundled module in the bundle but evaluates it only when called.
 */
function lazyPostgres(url: string): Db & { close(): Promise<void> } {
  let pool: Promise<Db & { close(): Promise<void> }> | undefined;
  const get = () => {
    pool ??= import('./postgres.ts').then(({ createPostgresDb }) => createPostgresDb(url));
    return pool;
  };
  return {
    query: async (sql, params) => (await get()).query(sql, params),
    transaction: async (work) => (await get()).transaction(work),
    close: async () => {
      if (pool) await (await pool).close();
    },
  };
}
