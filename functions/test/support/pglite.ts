import { PGlite, type Transaction } from '@electric-sql/pglite';
import { migrate } from '#adapters/migrate.ts';
import type { Db } from '#ports/db.ts';

/** Byte columns as node-postgres gives them (Buffer), which is what the domain code reads. */
function rowsOf(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      if (value instanceof Uint8Array && !Buffer.isBuffer(value)) row[key] = Buffer.from(value);
    }
  }
  return rows;
}

function dbOver(pg: PGlite | Transaction, inTransaction: boolean): Db {
  const db: Db = {
    async query<Row extends Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
      if (params && params.length > 0) {
        return rowsOf((await pg.query<Record<string, unknown>>(sql, [...params])).rows) as Row[];
      }
      // Without parameters a text may hold several statements (a migration): the last one's rows.
      const results = await pg.exec(sql);
      return rowsOf((results.at(-1)?.rows ?? []) as Record<string, unknown>[]) as Row[];
    },
    transaction<T>(work: (tx: Db) => Promise<T>): Promise<T> {
      if (inTransaction) return work(db);
      return (pg as PGlite).transaction((tx) => work(dbOver(tx, true)));
    },
  };
  return db;
}

/** An in-memory PostgreSQL (PGlite) with CipherTalk's migrations applied: for domain unit tests. */
export async function pgliteDb(): Promise<Db & { close(): Promise<void> }> {
  const pg = await PGlite.create('memory://');
  const db = dbOver(pg, false);
  await migrate(db);
  return Object.assign(db, { close: () => pg.close() });
}
