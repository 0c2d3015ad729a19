import { MAX_CIPHERTEXT_BYTES } from '@ciphertalk/shared/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '#adapters/migrate.ts';
import { createPostgresDb, type PostgresDb } from '#adapters/postgres.ts';
import { freshSchema } from '../support/services.ts';

/**
 * The ciphertext limit is declared once (MAX_CIPHERTEXT_BYTES, which the schema checks in decoded bytes); the
 * database's CHECKs must say the same, or a ciphertext the schema lets through is a 500 at the INSERT.
 */
describe('ciphertext limit: schema and database CHECKs agree', () => {
  let schema: Awaited<ReturnType<typeof freshSchema>>;
  let db: PostgresDb;
  beforeAll(async () => {
    schema = await freshSchema();
    db = createPostgresDb(schema.url, { max: 1 });
    await migrate(db);
  });
  afterAll(async () => {
    await db.close();
    await schema.drop();
  });

  it('bounds every ciphertext column by MAX_CIPHERTEXT_BYTES', async () => {
    const checks = await db.query<{ table: string; definition: string }>(
      `SELECT c.conrelid::regclass::text AS table, pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
        WHERE c.contype = 'c' AND n.nspname = current_schema() AND pg_get_constraintdef(c.oid) ~ 'length\\(\\w*ciphertext\\)'`,
    );
    expect(checks.map((check) => check.table).sort()).toEqual(['deliveries', 'messages']);
    for (const { definition } of checks) {
      const bounds = [...definition.matchAll(/length\(\w*ciphertext\)\s*<=\s*(\d+)/g)].map((m) => Number(m[1]));
      expect(bounds, definition).toEqual([MAX_CIPHERTEXT_BYTES]);
    }
  });
});
