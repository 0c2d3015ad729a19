import {
  BeginTransactionCommand,
  type ColumnMetadata,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type Field,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import { UnavailableError } from '#domain/errors.ts';
import type { Db } from '#ports/db.ts';
import { renamePlaceholders, splitStatements } from './sql-text.ts';

export interface DataApiDbOptions {
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
  readonly region: string;
  /** A local Data API endpoint (infra/local/data-api); unset in AWS. */
  readonly endpoint?: string;
  /**
   * How long a statement keeps retrying while a paused (0 ACU) cluster resumes (about 15 s) before it
   * fails with `UnavailableError` (503, `Retry-After`): 0 on request paths, whose client retries; the
   * migrator and the retention job wait.
   */
  readonly resumeWaitMs?: number;
  /** The Data API client; tests pass a fake. */
  readonly client?: Pick<RDSDataClient, 'send' | 'destroy'>;
  /** Pause before the one retry of an authentication failure (the secret being rotated). */
  readonly authRetryDelayMs?: number;
}

export interface DataApiDb extends Db {
  close(): Promise<void>;
}

/** A Data API failure; `code` is PostgreSQL's SQLSTATE when the database raised it (`23505`...). */
export class DataApiError extends Error {
  override readonly name = 'DataApiError';
  readonly code: string | undefined;
  constructor(message: string, options: { code?: string; cause: unknown }) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

/** What a client is told to wait before retrying while the cluster resumes (it takes about 15 s). */
export const RESUME_RETRY_AFTER_SECONDS = 5;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The password in the cluster's secret no longer matches (its rotation is between setting the new password
 * and making it current): PostgreSQL's 28P01/28000 as the Data API reports them.
 */
export function isAuthenticationFailure(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return /password authentication failed|SQLState: 28(P01|000)/i.test(message);
}

/**
 * The Db port over the RDS Data API (Aurora in AWS): the same parameters and
 * rows as node-postgres. Parameters are typed the way the Data API wants them
 * (UUID, JSON and TIMESTAMP type hints; arrays, which the Data API does not
 * take, as array literals cast in SQL); rows are rebuilt from the column
 * metadata (json parsed, timestamps and dates as Date, int8 and numeric as
 * strings, like pg). One difference stays: the Data API types an unhinted
 * string as varchar, so SQL casts a string bound for a numeric, date or inet
 * column (`$1::numeric`), which node-postgres accepts as well. A script of several statements (a migration file) runs statement by
 * statement in one transaction, as the Data API takes one statement per call.
 *
 * Two failures are retried: `DatabaseResumingException` while `resumeWaitMs` lasts (then a 503 the client
 * retries), and an authentication failure once: the Data API reads the secret by ARN on every call, so the
 * retry uses the rotated password.
 */
export function createDataApiDb(options: DataApiDbOptions): DataApiDb {
  const client =
    options.client ??
    new RDSDataClient({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    });
  const target = { resourceArn: options.resourceArn, secretArn: options.secretArn, database: options.database };
  const resumeWaitMs = options.resumeWaitMs ?? 0;
  const authRetryDelayMs = options.authRetryDelayMs ?? 1000;

  const send = async <T>(call: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + resumeWaitMs;
    let authRetried = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await call();
      } catch (error) {
        if ((error as { name?: unknown }).name === 'DatabaseResumingException') {
          const left = deadline - Date.now();
          if (left <= 0) {
            throw new UnavailableError(error, { retryAfterSeconds: RESUME_RETRY_AFTER_SECONDS });
          }
          await sleep(Math.min(1000 * 2 ** attempt, 5000, left));
          continue;
        }
        if (!authRetried && isAuthenticationFailure(error)) {
          authRetried = true;
          await sleep(authRetryDelayMs);
          continue;
        }
        throw toDataApiError(error);
      }
    }
  };

  const execute = async (sql: string, params: readonly unknown[], transactionId?: string) => {
    const statement = toStatement(sql, params);
    const result = await send(() =>
      client.send(
        new ExecuteStatementCommand({
          ...target,
          sql: statement.sql,
          parameters: statement.parameters,
          includeResultMetadata: true,
          ...(transactionId ? { transactionId } : {}),
        }),
      ),
    );
    return toRows(result.columnMetadata ?? [], result.records ?? []);
  };

  const transaction = async <T>(work: (tx: Db) => Promise<T>): Promise<T> => {
    const { transactionId } = await send(() => client.send(new BeginTransactionCommand(target)));
    if (!transactionId) throw new DataApiError('BeginTransaction returned no transaction id', { cause: null });
    const tx: Db = {
      query: async <Row extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) => {
        const statements = params.length === 0 ? splitStatements(sql) : [sql];
        let rows: Record<string, unknown>[] = [];
        for (const statement of statements.length > 0 ? statements : [sql]) {
          rows = await execute(statement, params, transactionId);
        }
        return rows as Row[];
      },
      transaction: () => Promise.reject(new Error('nested transactions are not supported')),
    };
    try {
      const result = await work(tx);
      await send(() => client.send(new CommitTransactionCommand({ ...target, transactionId })));
      return result;
    } catch (error) {
      await client.send(new RollbackTransactionCommand({ ...target, transactionId })).catch(() => undefined);
      throw error;
    }
  };

  return {
    async query<Row extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) {
      if (params.length === 0 && splitStatements(sql).length > 1) return transaction((tx) => tx.query<Row>(sql));
      return (await execute(sql, params)) as Row[];
    },
    transaction,
    async close() {
      client.destroy();
    },
  };
}

/** `$1` becomes `:p1`; arrays, which the Data API does not take as parameters, travel as cast array literals. */
export function toStatement(sql: string, params: readonly unknown[]): { sql: string; parameters: SqlParameter[] } {
  const casts = new Map<number, string>();
  const parameters = params.map((value, i): SqlParameter => {
    const name = `p${i + 1}`;
    if (Array.isArray(value)) {
      casts.set(i + 1, `::${arrayType(value)}`);
      return { name, value: { stringValue: arrayLiteral(value) } };
    }
    return { name, ...toField(value) };
  });
  return { sql: renamePlaceholders(sql, (n) => `:p${n}${casts.get(n) ?? ''}`), parameters };
}

function toField(value: unknown): Pick<SqlParameter, 'value' | 'typeHint'> {
  if (value === null || value === undefined) return { value: { isNull: true } };
  if (typeof value === 'boolean') return { value: { booleanValue: value } };
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) ? { value: { longValue: value } } : { value: { doubleValue: value } };
  }
  if (typeof value === 'bigint') return { value: { stringValue: value.toString() }, typeHint: 'DECIMAL' };
  if (typeof value === 'string') {
    return uuidPattern.test(value)
      ? { value: { stringValue: value }, typeHint: 'UUID' }
      : { value: { stringValue: value } };
  }
  if (value instanceof Date) return { value: { stringValue: timestampText(value) }, typeHint: 'TIMESTAMP' };
  if (value instanceof Uint8Array) return { value: { blobValue: value } };
  return { value: { stringValue: JSON.stringify(value) }, typeHint: 'JSON' };
}

/** The Data API's TIMESTAMP format, in UTC (the Data API's session time zone). */
function timestampText(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

function arrayType(values: readonly unknown[]): string {
  const present = values.filter((v) => v !== null && v !== undefined);
  if (present.length > 0 && present.every((v) => typeof v === 'string' && uuidPattern.test(v))) return 'uuid[]';
  if (present.length > 0 && present.every((v) => typeof v === 'boolean')) return 'boolean[]';
  if (present.length > 0 && present.every((v) => Number.isSafeInteger(v))) return 'bigint[]';
  if (present.length > 0 && present.every((v) => typeof v === 'number')) return 'float8[]';
  if (present.some((v) => typeof v === 'object' && !(v instanceof Date))) return 'jsonb[]';
  return 'text[]';
}

function arrayLiteral(values: readonly unknown[]): string {
  const element = (v: unknown): string => {
    if (v === null || v === undefined) return 'NULL';
    if (Array.isArray(v)) return arrayLiteral(v);
    const text =
      v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v as string | number);
    return `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  };
  return `{${values.map(element).join(',')}}`;
}

/** Rows as node-postgres builds them, from the Data API's typed fields and column metadata. */
export function toRows(columns: readonly ColumnMetadata[], records: readonly Field[][]): Record<string, unknown>[] {
  return records.map((record) =>
    Object.fromEntries(
      columns.map((column, i) => [
        column.label ?? column.name ?? `?column${i}?`,
        fromField(record[i], column.typeName),
      ]),
    ),
  );
}

function fromField(field: Field | undefined, typeName = ''): unknown {
  if (!field || field.isNull) return null;
  if (field.arrayValue) return fromArray(field.arrayValue, typeName.replace(/^_/, ''));
  if (field.blobValue !== undefined) return Buffer.from(field.blobValue);
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  if (field.longValue !== undefined) return typeName === 'int8' ? String(field.longValue) : field.longValue;
  if (field.stringValue !== undefined) return fromText(field.stringValue, typeName);
  return null;
}

function fromText(text: string, typeName: string): unknown {
  switch (typeName) {
    case 'json':
    case 'jsonb':
      return JSON.parse(text);
    case 'timestamptz':
    case 'timestamp':
      return new Date(`${text.replace(' ', 'T')}Z`);
    case 'date':
      // node-postgres: local midnight of that day.
      return new Date(`${text}T00:00:00`);
    case 'int2':
    case 'int4':
    case 'oid':
      return Number(text);
    default:
      return text;
  }
}

function fromArray(array: NonNullable<Field['arrayValue']>, elementType: string): unknown[] {
  if (array.arrayValues) return array.arrayValues.map((inner) => (inner ? fromArray(inner, elementType) : null));
  if (array.stringValues) return array.stringValues.map((v) => (v === null ? null : fromText(v, elementType)));
  if (array.longValues) return array.longValues.map((v) => (elementType === 'int8' ? String(v) : v));
  return array.doubleValues ?? array.booleanValues ?? [];
}

function toDataApiError(error: unknown): DataApiError {
  const message = error instanceof Error ? error.message : String(error);
  const code = /SQLState: (\w{5})/.exec(message)?.[1];
  return new DataApiError(message, { ...(code ? { code } : {}), cause: error });
}
