import pg from 'pg';
import type { Db } from '#ports/db.ts';
import { isDependencyDown } from './dependency-errors.ts';

export interface PostgresDb extends Db {
  close(): Promise<void>;
}

/**
 * PostgreSQL over the wire (node-postgres): real PostgreSQL, or PGlite behind
 * its socket server. A Lambda container serves one request at a time, so the
 * pool stays small.
 */
export function createPostgresDb(connectionString: string, options: { max?: number } = {}): PostgresDb {
  const pool = new pg.Pool({
    connectionString,
    max: options.max ?? 4,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: 5_000,
  });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);

  const run =
    (client: pg.Pool | pg.PoolClient) =>
    async <Row extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) =>
      (await client.query<Row>(sql, params as unknown[])).rows;

  return {
    query: run(pool),
    async transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      const tx: Db = {
        query: run(client),
        transaction: () => Promise.reject(new Error('nested transactions are not supported')),
      };
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A client whose server went away (a restart) is destroyed, not handed to the next request.
        if (isDependencyDown(error)) broken = error as Error;
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
