import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '#adapters/migrate.ts';
import type { Db } from '#ports/db.ts';

/** The behaviour every Db must show: PostgreSQL and PGlite (and later the Data API) alike. */
export function dbContract(name: string, setUp: () => Promise<{ db: Db; tearDown(): Promise<void> }>) {
  describe(`Db contract: ${name}`, () => {
    let db: Db;
    let tearDown: () => Promise<void>;
    beforeAll(async () => {
      ({ db, tearDown } = await setUp());
      await db.query(
        `CREATE TABLE contract_items (
           id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
           name text NOT NULL UNIQUE,
           tags text[] NOT NULL DEFAULT '{}',
           doc jsonb,
           created_at timestamptz NOT NULL DEFAULT now()
         )`,
      );
    });
    afterAll(() => tearDown?.());

    it('round-trips parameters and PostgreSQL types', async () => {
      const [row] = await db.query<{ id: string; name: string; tags: string[]; doc: unknown; created_at: Date }>(
        'INSERT INTO contract_items (name, tags, doc) VALUES ($1, $2, $3) RETURNING *',
        ['alpha', ['a', 'b'], { nested: { n: 1 }, list: [true, null] }],
      );
      expect(row?.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row?.tags).toEqual(['a', 'b']);
      expect(row?.doc).toEqual({ nested: { n: 1 }, list: [true, null] });
      expect(row?.created_at).toBeInstanceOf(Date);
      const nulls = await db.query<{ doc: unknown }>('SELECT doc FROM contract_items WHERE name = $1', ['missing']);
      expect(nulls).toEqual([]);
    });

    it('commits a transaction that resolves', async () => {
      await db.transaction(async (tx) => {
        await tx.query('INSERT INTO contract_items (name) VALUES ($1)', ['committed']);
      });
      expect(await db.query('SELECT name FROM contract_items WHERE name = $1', ['committed'])).toHaveLength(1);
    });

    it('rolls back every write of a transaction that throws', async () => {
      await expect(
        db.transaction(async (tx) => {
          await tx.query('INSERT INTO contract_items (name) VALUES ($1)', ['rolled-back']);
          await tx.query('INSERT INTO contract_items (name) VALUES ($1)', ['rolled-back']); // unique violation
        }),
      ).rejects.toMatchObject({ code: '23505' });
      expect(await db.query('SELECT name FROM contract_items WHERE name = $1', ['rolled-back'])).toEqual([]);
    });

    it('applies each migration once, in order, and none of a failing one', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'migrations-'));
      await writeFile(join(dir, '0001_first.sql'), 'CREATE TABLE m_one (id int); INSERT INTO m_one VALUES (1);');
      await writeFile(join(dir, '0002_second.sql'), 'CREATE TABLE m_two (id int);');
      await writeFile(join(dir, 'notes.txt'), 'not a migration');
      expect(await migrate(db, dir)).toEqual(['0001_first.sql', '0002_second.sql']);
      expect(await migrate(db, dir)).toEqual([]);
      expect(await db.query('SELECT id FROM m_one')).toEqual([{ id: 1 }]);

      await writeFile(join(dir, '0003_broken.sql'), 'CREATE TABLE m_three (id int); SELECT * FROM no_such_table;');
      await expect(migrate(db, dir)).rejects.toThrow(/no_such_table/);
      expect(await db.query("SELECT to_regclass('m_three') AS t")).toEqual([{ t: null }]);
      expect(await db.query("SELECT name FROM schema_migrations WHERE name = '0003_broken.sql'")).toEqual([]);
    });
  });
}
