import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from '#ports/db.ts';

export const migrationsDir = fileURLToPath(new URL('../../migrations/', import.meta.url));
/** SQL functions, one maintained file each (`CREATE OR REPLACE`): applied after the migrations on every run. */
export const definitionsDir = fileURLToPath(new URL('../../definitions/', import.meta.url));

/** Any fixed number: all runners of CipherTalk migrations take this advisory lock. */
const LOCK_KEY = 4_207_310_001;

/**
 * Applies `NNNN_name.sql` files in name order, each once, each in its own
 * transaction with the migration's record, so a failing file leaves nothing
 * half-applied. Concurrent runners (two Lambdas, two `npm start`s) serialise on
 * an advisory lock. Returns the names applied by this call.
 *
 * Then the files of `definitions` (SQL functions, one maintained file each,
 * written `CREATE OR REPLACE`) are applied on every run, after the numbered
 * migrations whose tables they use: a change to one is deployed by editing it.
 */
export async function migrate(
  db: Db,
  dir = migrationsDir,
  definitions: string | null = dir === migrationsDir ? definitionsDir : null,
): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f)).sort();
  await db.query(
    'CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())',
  );
  const applied: string[] = [];
  for (const name of files) {
    const sql = await readFile(join(dir, name), 'utf8');
    const ran = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE name = $1', [name]);
      if (done.length > 0) return false;
      await tx.query(sql);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [name]);
      return true;
    });
    if (ran) applied.push(name);
  }
  for (const name of definitions ? await sqlFiles(definitions) : []) {
    const sql = await readFile(join(definitions as string, name), 'utf8');
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      await tx.query(sql);
    });
  }
  return applied;
}

async function sqlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((f) => /^[\w-]+\.sql$/.test(f)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
