import { describe, expect, it } from 'vitest';
import { renamePlaceholders, splitStatements } from '#adapters/sql-text.ts';

describe('splitStatements (a migration file, one statement per Data API call)', () => {
  it('splits on top-level semicolons and drops empty and comment-only pieces', () => {
    expect(splitStatements('CREATE TABLE a (id int);\n\nINSERT INTO a VALUES (1); -- trailing\n')).toEqual([
      'CREATE TABLE a (id int)',
      'INSERT INTO a VALUES (1)',
    ]);
  });

  it('keeps semicolons inside strings, quoted identifiers, comments and dollar-quoted bodies', () => {
    const sql = [
      "INSERT INTO t VALUES ('a;b', 'it''s;', E'x\\';y')",
      'CREATE TABLE "odd;name" (v text) /* a; b /* nested; */ c; */',
      'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; SELECT 2; $body$ LANGUAGE sql',
      'DO $$ BEGIN PERFORM 1; END $$',
    ].join(';\n');
    expect(splitStatements(`${sql};`)).toHaveLength(4);
    expect(splitStatements(sql)[2]).toContain('SELECT 1; SELECT 2;');
  });

  it('leaves a single statement whole', () => {
    expect(splitStatements('SELECT 1')).toEqual(['SELECT 1']);
  });
});

describe('renamePlaceholders', () => {
  it('renames $n outside literals only', () => {
    expect(renamePlaceholders('SELECT $1, \'$2\', $$ $3 $$, "$4", $10 -- $5', (n) => `:p${n}`)).toBe(
      'SELECT :p1, \'$2\', $$ $3 $$, "$4", :p10 -- $5',
    );
  });
});
