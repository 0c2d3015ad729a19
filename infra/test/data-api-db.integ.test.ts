import { createDataApiDb, type DataApiDb } from '@ciphertalk/functions/adapters/data-api.ts';
import { dbContract } from '@ciphertalk/functions/test/contracts/db.contract.ts';
import { freshSchema } from '@ciphertalk/functions/test/support/services.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DataApiServer, startDataApiServer } from '../local/data-api/server.ts';

/**
 * The Db contract that PostgreSQL and PGlite pass, run against the Data API
 * adapter through the local Data API endpoint over the real PostgreSQL; then
 * what is particular to the Data API (type hints, refused arrays, one
 * statement per call, the 1 MiB response limit).
 */
// The SDK signs requests; the local endpoint does not check signatures. Not secrets.
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';

const target = {
  resourceArn: 'arn:aws:rds:us-east-1:000000000000:cluster:ciphertalk-local',
  secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:ciphertalk-local',
  database: 'ciphertalk_test',
  region: 'us-east-1',
};

async function start(options: { maxResponseBytes?: number } = {}) {
  const schema = await freshSchema();
  const server = await startDataApiServer({ databaseUrl: schema.url, ...options });
  const db = createDataApiDb({ ...target, endpoint: server.endpoint, resumeWaitMs: 0 });
  return {
    db,
    server,
    async tearDown() {
      await db.close();
      await server.close();
      await schema.drop();
    },
  };
}

dbContract('RDS Data API (local endpoint over PostgreSQL)', start);

describe('Data API adapter: what differs from the wire protocol', () => {
  let db: DataApiDb;
  let server: DataApiServer;
  let tearDown: () => Promise<void>;
  beforeAll(async () => {
    ({ db, server, tearDown } = await start({ maxResponseBytes: 64 * 1024 }));
    await db.query(`CREATE TABLE typed (
      id uuid PRIMARY KEY, n int4, big int8, amount numeric, ratio float8, ok boolean,
      at timestamptz, day date, doc jsonb, ids uuid[], counts int4[], raw bytea, note text)`);
  });
  afterAll(() => tearDown?.());

  // A string without a type hint is varchar in the Data API: SQL casts strings bound for numeric or date columns.
  it('sends uuid, json and timestamp parameters with their type hints and reads them back as pg does', async () => {
    const id = '0b7e7c3c-5f5e-4a57-9d0e-3c1b2a4f5e6d';
    const at = new Date('2026-11-26T12:34:56.789Z');
    await db.query(
      'INSERT INTO typed (id, n, big, amount, ratio, ok, at, day, doc, ids, counts, raw, note) VALUES ($1, $2, $3, $4::numeric, $5, $6, $7, $8::date, $9, $10, $11, $12, $13)',
      [
        id,
        7,
        9_007_199_254_740_991,
        '12.50',
        0.25,
        true,
        at,
        '2026-11-26',
        { a: [1, 'x'] },
        [id],
        [1, 2],
        Buffer.from([1, 2, 255]),
        null,
      ],
    );
    const [row] = await db.query('SELECT * FROM typed WHERE id = $1', [id]);
    expect(row).toEqual({
      id,
      n: 7,
      big: '9007199254740991',
      amount: '12.50',
      ratio: 0.25,
      ok: true,
      at,
      day: new Date(2026, 10, 26),
      doc: { a: [1, 'x'] },
      ids: [id],
      counts: [1, 2],
      raw: Buffer.from([1, 2, 255]),
      note: null,
    });
  });

  it('refuses what the Data API refuses: array parameters, several statements in one call', async () => {
    const client = (await import('@aws-sdk/client-rds-data')).RDSDataClient;
    const { ExecuteStatementCommand } = await import('@aws-sdk/client-rds-data');
    const raw = new client({ region: 'us-east-1', endpoint: server.endpoint });
    try {
      await expect(
        raw.send(
          new ExecuteStatementCommand({
            ...target,
            sql: 'SELECT :a',
            parameters: [{ name: 'a', value: { arrayValue: { stringValues: ['x'] } } }],
          }),
        ),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
      await expect(
        raw.send(new ExecuteStatementCommand({ ...target, sql: 'SELECT 1; SELECT 2' })),
      ).rejects.toMatchObject({
        name: 'BadRequestException',
        message: expect.stringMatching(/SQLState: 42601/),
      });
      // A string without a type hint is varchar, as in AWS: a uuid column needs the hint the adapter adds.
      await expect(
        raw.send(
          new ExecuteStatementCommand({
            ...target,
            sql: 'SELECT id FROM typed WHERE id = :id',
            parameters: [{ name: 'id', value: { stringValue: '0b7e7c3c-5f5e-4a57-9d0e-3c1b2a4f5e6d' } }],
          }),
        ),
      ).rejects.toMatchObject({ message: expect.stringMatching(/operator does not exist: uuid = character varying/) });
    } finally {
      raw.destroy();
    }
  });

  it('speaks BatchExecuteStatement: one statement over many parameter sets, atomically, in or out of a transaction', async () => {
    const sdk = await import('@aws-sdk/client-rds-data');
    const raw = new sdk.RDSDataClient({ region: 'us-east-1', endpoint: server.endpoint });
    const row = (note: string) => [
      { name: 'id', value: { stringValue: crypto.randomUUID() }, typeHint: 'UUID' as const },
      { name: 'note', value: { stringValue: note } },
    ];
    try {
      const sql = 'INSERT INTO typed (id, note) VALUES (:id, :note)';
      const batch = await raw.send(
        new sdk.BatchExecuteStatementCommand({ ...target, sql, parameterSets: [row('b1'), row('b2'), row('b3')] }),
      );
      expect(batch.updateResults).toHaveLength(3);
      // A failing set fails the whole batch.
      const dup = row('dup');
      await expect(
        raw.send(new sdk.BatchExecuteStatementCommand({ ...target, sql, parameterSets: [row('b4'), dup, dup] })),
      ).rejects.toMatchObject({ message: expect.stringMatching(/SQLState: 23505/) });
      // Inside a transaction, rolled back with it.
      const { transactionId } = await raw.send(new sdk.BeginTransactionCommand(target));
      await raw.send(
        new sdk.BatchExecuteStatementCommand({ ...target, sql, transactionId, parameterSets: [row('b5')] }),
      );
      await raw.send(new sdk.RollbackTransactionCommand({ ...target, transactionId }));
      const notes = await db.query<{ note: string }>("SELECT note FROM typed WHERE note LIKE 'b%' ORDER BY note");
      expect(notes.map((n) => n.note)).toEqual(['b1', 'b2', 'b3']);
      await expect(raw.send(new sdk.CommitTransactionCommand({ ...target, transactionId }))).rejects.toMatchObject({
        name: 'NotFoundException',
      });
    } finally {
      raw.destroy();
    }
  });

  it('answers formatRecordsAs JSON with the rows as a JSON string', async () => {
    const sdk = await import('@aws-sdk/client-rds-data');
    const raw = new sdk.RDSDataClient({ region: 'us-east-1', endpoint: server.endpoint });
    try {
      const answer = await raw.send(
        new sdk.ExecuteStatementCommand({
          ...target,
          sql: "SELECT 1 AS n, 'x' AS s, NULL AS z, ARRAY[1,2] AS a, true AS b",
          formatRecordsAs: 'JSON',
        }),
      );
      expect(answer.records).toBeUndefined();
      expect(JSON.parse(answer.formattedRecords ?? '')).toEqual([{ n: 1, s: 'x', z: null, a: [1, 2], b: true }]);
    } finally {
      raw.destroy();
    }
  });

  it('runs a script of several statements (a migration file) statement by statement, atomically', async () => {
    await db.query("CREATE TABLE script_a (v text); INSERT INTO script_a VALUES ('semi;colon'); -- done;");
    expect(await db.query('SELECT v FROM script_a')).toEqual([{ v: 'semi;colon' }]);
    await expect(db.query('CREATE TABLE script_b (v int); SELECT * FROM no_such_table;')).rejects.toMatchObject({
      code: '42P01',
    });
    expect(await db.query("SELECT to_regclass('script_b') AS t")).toEqual([{ t: null }]);
  });

  it('fails a response over the size limit instead of truncating it', async () => {
    await expect(db.query("SELECT repeat('x', 70000) AS big")).rejects.toThrow(/response size limit/);
    expect(await db.query("SELECT repeat('x', 10) AS small")).toEqual([{ small: 'xxxxxxxxxx' }]);
  });
});
