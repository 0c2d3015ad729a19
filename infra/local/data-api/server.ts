import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lexSql } from '@ciphertalk/functions/adapters/sql-text.ts';
import pg from 'pg';
import { type Authorize, signingKeyId } from '../iam/enforcement.ts';

/**
 * A local RDS Data API: the REST/JSON protocol of `@aws-sdk/client-rds-data`
 * (POST /Execute, /BatchExecute, /BeginTransaction, /CommitTransaction,
 * /RollbackTransaction) over a real PostgreSQL, so the Data API adapter runs
 * against what it meets in AWS:
 * - named parameters (`:name`), typed as the Data API types them: a plain
 *   string is `varchar` (so a uuid or jsonb column needs a type hint or a cast),
 *   typeHint UUID/JSON/TIMESTAMP/DATE/TIME/DECIMAL, long as int8, double as
 *   float8; array parameters are refused, as by the service;
 * - one statement per call (extended protocol); session time zone UTC;
 * - results as typed fields with column metadata, or `formatRecordsAs: JSON`;
 * - the 1 MiB response limit and the 64 KiB SQL limit; SQL errors as
 *   `BadRequestException` with `SQLState: XXXXX` in the message;
 * - transactions by id on one connection each, ended by commit, rollback or 3 minutes idle;
 * - with `authorize` (the twin's IAM), each call is evaluated as the function whose access key signed it:
 *   `rds-data:<Action>` on the cluster ARN (`403 AccessDeniedException`), then `secretsmanager:GetSecretValue`
 *   on the secret ARN, which the Data API reads with the caller's credentials (`400 SecretsErrorException`);
 * - with `autoPause`, a cluster at 0 ACU: after `idleMs` without a call the next calls answer
 *   `400 DatabaseResumingException` for `resumeMs`, then the cluster serves again.
 * Signatures are not checked (credentials are never real locally), only their key id read.
 */
export interface DataApiServerOptions {
  /** The PostgreSQL the "cluster" is (its search_path and database included). */
  readonly databaseUrl: string;
  readonly port?: number;
  readonly host?: string;
  readonly maxResponseBytes?: number;
  readonly transactionIdleMs?: number;
  readonly authorize?: Authorize;
  /** Emulates Aurora Serverless v2 pausing at 0 ACU (off when absent). */
  readonly autoPause?: AutoPause;
}

/** The Data API's names for the IAM actions of its operations. */
const actions: Readonly<Record<string, string>> = {
  '/Execute': 'rds-data:ExecuteStatement',
  '/BatchExecute': 'rds-data:BatchExecuteStatement',
  '/BeginTransaction': 'rds-data:BeginTransaction',
  '/CommitTransaction': 'rds-data:CommitTransaction',
  '/RollbackTransaction': 'rds-data:RollbackTransaction',
};

export type AutoPause = { readonly idleMs: number; readonly resumeMs: number; readonly now?: () => number };

export interface DataApiServer {
  readonly endpoint: string;
  /** Starts (or, with null, stops) emulating the paused cluster from now on. */
  setAutoPause(autoPause: AutoPause | null): void;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;
const maxSqlLength = 65_536;

class ServiceError extends Error {
  constructor(
    readonly type: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Field {
  isNull?: boolean;
  stringValue?: string;
  longValue?: number;
  doubleValue?: number;
  booleanValue?: boolean;
  blobValue?: string;
  arrayValue?: ArrayValue;
}
interface ArrayValue {
  stringValues?: (string | null)[];
  longValues?: (number | null)[];
  doubleValues?: (number | null)[];
  booleanValues?: (boolean | null)[];
  arrayValues?: ArrayValue[];
}
interface SqlParameter {
  name?: string;
  value?: Field;
  typeHint?: 'UUID' | 'JSON' | 'TIMESTAMP' | 'DATE' | 'TIME' | 'DECIMAL';
}

/** Every value arrives as PostgreSQL's text; the Data API's own types are built from it. */
const rawTypes = { getTypeParser: () => (value: string) => value };

export async function startDataApiServer(options: DataApiServerOptions): Promise<DataApiServer> {
  const maxResponseBytes = options.maxResponseBytes ?? MiB;
  const idleMs = options.transactionIdleMs ?? 3 * 60_000;
  const url = new URL(options.databaseUrl);
  url.searchParams.set('options', `${url.searchParams.get('options') ?? ''} -c TimeZone=UTC`.trim());
  const pool = new pg.Pool({ connectionString: url.toString(), max: 8, types: rawTypes });
  pool.on('error', () => undefined);
  const typeNames = new Map<number, string>();
  const transactions = new Map<string, { client: pg.PoolClient; timer: NodeJS.Timeout }>();

  const typeName = async (oid: number, client: pg.Pool | pg.PoolClient): Promise<string> => {
    let name = typeNames.get(oid);
    if (name === undefined) {
      const found = await client.query<{ typname: string }>('SELECT typname FROM pg_type WHERE oid = $1', [oid]);
      name = found.rows[0]?.typname ?? 'unknown';
      typeNames.set(oid, name);
    }
    return name;
  };
  const { rows: knownTypes } = await pool.query<{ oid: string; typname: string }>(
    "SELECT oid, typname FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace",
  );
  for (const { oid, typname } of knownTypes) typeNames.set(Number(oid), typname);

  const transaction = (id: unknown) => {
    const found = typeof id === 'string' ? transactions.get(id) : undefined;
    if (!found) throw new ServiceError('NotFoundException', 404, `Transaction ${String(id)} is not found`);
    return found;
  };
  const touch = (id: string) => {
    const entry = transaction(id);
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => void end(id, 'ROLLBACK'), idleMs);
    entry.timer.unref();
    return entry.client;
  };
  const end = async (id: string, command: 'COMMIT' | 'ROLLBACK') => {
    const entry = transaction(id);
    transactions.delete(id);
    clearTimeout(entry.timer);
    try {
      await entry.client.query(command);
    } finally {
      entry.client.release();
    }
  };

  const run = async (client: pg.Pool | pg.PoolClient, sql: string, parameters: SqlParameter[]) => {
    if (typeof sql !== 'string' || sql.length === 0) throw new ServiceError('BadRequestException', 400, 'SQL is empty');
    if (sql.length > maxSqlLength) {
      throw new ServiceError('BadRequestException', 400, `SQL statement exceeds the ${maxSqlLength} character limit`);
    }
    const { text, values } = bindParameters(sql, parameters);
    try {
      return await client.query({ text, values, rowMode: 'array', queryMode: 'extended' } as pg.QueryArrayConfig & {
        queryMode: 'extended';
      });
    } catch (error) {
      throw sqlError(error);
    }
  };

  const toResponse = async (
    client: pg.Pool | pg.PoolClient,
    result: pg.QueryResult,
    request: { includeResultMetadata?: boolean; formatRecordsAs?: string },
  ) => {
    const fields = result.fields ?? [];
    const types = await Promise.all(fields.map((f) => typeName(f.dataTypeID, client)));
    const isQuery = fields.length > 0;
    const records = isQuery
      ? result.rows.map((row: unknown[]) => row.map((value, i) => toField(value as string | null, types[i] ?? 'text')))
      : undefined;
    const columnMetadata = fields.map((f, i) => ({
      name: f.name,
      label: f.name,
      typeName: types[i],
      type: jdbcType(types[i] ?? ''),
      arrayBaseColumnType: 0,
      isAutoIncrement: false,
      isCaseSensitive: true,
      isCurrency: false,
      isSigned: /^(int|float|numeric)/.test(types[i] ?? ''),
      nullable: 2,
      precision: 0,
      scale: 0,
      schemaName: '',
      tableName: '',
    }));
    const response: Record<string, unknown> = {
      numberOfRecordsUpdated: isQuery ? 0 : (result.rowCount ?? 0),
      generatedFields: [],
    };
    if (request.formatRecordsAs === 'JSON') {
      if (isQuery) {
        response.formattedRecords = JSON.stringify(
          (records ?? []).map((row) => Object.fromEntries(row.map((field, i) => [fields[i]?.name, jsonOf(field)]))),
        );
      }
    } else if (records) {
      response.records = records;
      if (request.includeResultMetadata) response.columnMetadata = columnMetadata;
    } else if (request.includeResultMetadata) {
      response.columnMetadata = [];
    }
    return response;
  };

  const handlers: Record<string, (body: Record<string, unknown>) => Promise<unknown>> = {
    async '/Execute'(body) {
      requireTarget(body);
      if (body.formatRecordsAs === 'JSON' && body.includeResultMetadata) {
        throw new ServiceError(
          'BadRequestException',
          400,
          'includeResultMetadata cannot be used with formatRecordsAs JSON',
        );
      }
      const client = body.transactionId ? touch(String(body.transactionId)) : pool;
      const result = await run(client, body.sql as string, (body.parameters as SqlParameter[]) ?? []);
      return toResponse(client, result, body as { includeResultMetadata?: boolean; formatRecordsAs?: string });
    },
    async '/BatchExecute'(body) {
      requireTarget(body);
      const sets = (body.parameterSets as SqlParameter[][] | undefined) ?? [[]];
      const inTransaction = Boolean(body.transactionId);
      const client = inTransaction ? touch(String(body.transactionId)) : await pool.connect();
      try {
        if (!inTransaction) await client.query('BEGIN');
        const updateResults = [];
        for (const set of sets) {
          await run(client, body.sql as string, set);
          updateResults.push({ generatedFields: [] });
        }
        if (!inTransaction) await client.query('COMMIT');
        return { updateResults };
      } catch (error) {
        if (!inTransaction) await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        if (!inTransaction) (client as pg.PoolClient).release();
      }
    },
    async '/BeginTransaction'(body) {
      requireTarget(body);
      const client = await pool.connect();
      await client.query('BEGIN');
      const transactionId = randomBytes(96).toString('base64');
      transactions.set(transactionId, { client, timer: setTimeout(() => undefined, 0) });
      touch(transactionId);
      return { transactionId };
    },
    async '/CommitTransaction'(body) {
      requireTarget(body);
      await end(String(body.transactionId), 'COMMIT').catch(rethrowSql);
      return { transactionStatus: 'Transaction Committed' };
    },
    async '/RollbackTransaction'(body) {
      requireTarget(body);
      await end(String(body.transactionId), 'ROLLBACK').catch(rethrowSql);
      return { transactionStatus: 'Rollback Complete' };
    },
  };

  let pause: Required<AutoPause> | null = null;
  let lastCallAt = 0;
  const setAutoPause = (autoPause: AutoPause | null) => {
    pause = autoPause && { ...autoPause, now: autoPause.now ?? Date.now };
    lastCallAt = pause?.now() ?? 0;
    resumingUntil = null;
  };
  let resumingUntil: number | null = null;
  setAutoPause(options.autoPause ?? null);
  /** Refuses the call while the cluster resumes from an idle pause; a served call counts as activity. */
  const checkAwake = (resourceArn: unknown) => {
    if (!pause) return;
    const now = pause.now();
    if (resumingUntil !== null) {
      if (now < resumingUntil) throw resuming(resourceArn);
      resumingUntil = null;
    } else if (now - lastCallAt >= pause.idleMs && pause.resumeMs > 0) {
      resumingUntil = now + pause.resumeMs;
      throw resuming(resourceArn);
    }
    lastCallAt = now;
  };

  const authorizeCall = async (req: IncomingMessage, path: string, body: Record<string, unknown>) => {
    const accessKeyId = options.authorize && signingKeyId(req.headers.authorization);
    if (!options.authorize || !accessKeyId) return;
    const denied = await options.authorize({
      accessKeyId,
      action: actions[path] ?? 'rds-data:ExecuteStatement',
      resource: String(body.resourceArn),
    });
    if (denied) throw new ServiceError('AccessDeniedException', 403, denied.message);
    const secret = await options.authorize({
      accessKeyId,
      action: 'secretsmanager:GetSecretValue',
      resource: String(body.secretArn),
    });
    if (secret) {
      throw new ServiceError(
        'SecretsErrorException',
        400,
        `Error fetching secret ${String(body.secretArn)}: ${secret.message}`,
      );
    }
  };

  const server = createServer((req, res) => {
    void serve(req, res);
  });
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const handler = req.method === 'POST' ? handlers[path] : undefined;
      if (!handler) throw new ServiceError('UnknownOperationException', 404, 'Unknown operation');
      if (!req.headers.authorization)
        throw new ServiceError('MissingAuthenticationTokenException', 403, 'Missing Authentication Token');
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      await authorizeCall(req, path, body);
      checkAwake(body.resourceArn);
      const payload = Buffer.from(JSON.stringify(await handler(body)));
      if (payload.length > maxResponseBytes) {
        throw new ServiceError(
          'BadRequestException',
          400,
          'Database returned more than the allowed response size limit',
        );
      }
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': payload.length });
      res.end(payload);
    } catch (error) {
      const failure =
        error instanceof ServiceError ? error : new ServiceError('InternalServerErrorException', 500, String(error));
      const payload = JSON.stringify({ message: failure.message });
      res.writeHead(failure.status, { 'content-type': 'application/json', 'x-amzn-errortype': failure.type });
      res.end(payload);
    }
  };

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${options.host ?? '127.0.0.1'}:${port}`,
    setAutoPause,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const id of [...transactions.keys()]) await end(id, 'ROLLBACK').catch(() => undefined);
      await pool.end();
    },
  };
}

/** What the Data API answers while an auto-paused Aurora Serverless v2 cluster resumes. */
function resuming(resourceArn: unknown): ServiceError {
  const cluster = String(resourceArn).split(':').pop();
  return new ServiceError(
    'DatabaseResumingException',
    400,
    `The Aurora DB instance ${cluster}-instance-1 is resuming after being auto-paused. Please wait a few seconds and try again.`,
  );
}

function requireTarget(body: Record<string, unknown>): void {
  for (const key of ['resourceArn', 'secretArn'] as const) {
    if (typeof body[key] !== 'string' || !String(body[key]).startsWith('arn:')) {
      throw new ServiceError('BadRequestException', 400, `${key} is required and must be an ARN`);
    }
  }
}

/** `:name` placeholders (outside literals, not `::` casts) become `$n` with the Data API's parameter type. */
function bindParameters(sql: string, parameters: readonly SqlParameter[]): { text: string; values: unknown[] } {
  const byName = new Map(parameters.map((p) => [p.name ?? '', p]));
  const order = new Map<string, number>();
  const values: unknown[] = [];
  const text = lexSql(sql)
    .map((piece) =>
      piece.kind === 'literal'
        ? piece.text
        : piece.text.replace(/(?<!:):([A-Za-z_]\w*)/g, (_, name: string) => {
            const parameter = byName.get(name);
            if (!parameter)
              throw new ServiceError('BadRequestException', 400, `No value specified for parameter: ${name}`);
            let index = order.get(name);
            if (index === undefined) {
              values.push(parameterValue(parameter));
              index = values.length;
              order.set(name, index);
            }
            return `$${index}${castOf(parameter)}`;
          }),
    )
    .join('');
  return { text, values };
}

function parameterValue(parameter: SqlParameter): unknown {
  const v = parameter.value ?? { isNull: true };
  if (v.arrayValue) throw new ServiceError('BadRequestException', 400, 'Array parameters are not supported.');
  if (v.isNull) return null;
  if (v.blobValue !== undefined) return Buffer.from(v.blobValue, 'base64');
  return v.stringValue ?? v.longValue ?? v.doubleValue ?? v.booleanValue ?? null;
}

function castOf(parameter: SqlParameter): string {
  const v = parameter.value ?? { isNull: true };
  if (v.isNull) return '';
  if (v.stringValue !== undefined) {
    const hinted = {
      UUID: 'uuid',
      JSON: 'json',
      TIMESTAMP: 'timestamp',
      DATE: 'date',
      TIME: 'time',
      DECIMAL: 'numeric',
    };
    return `::${parameter.typeHint ? hinted[parameter.typeHint] : 'varchar'}`;
  }
  if (v.longValue !== undefined) return '::int8';
  if (v.doubleValue !== undefined) return '::float8';
  if (v.booleanValue !== undefined) return '::bool';
  if (v.blobValue !== undefined) return '::bytea';
  return '';
}

function toField(text: string | null, type: string): Field {
  if (text === null) return { isNull: true };
  if (type.startsWith('_')) return { arrayValue: toArray(parseArrayLiteral(text), type.slice(1)) };
  switch (type) {
    case 'int2':
    case 'int4':
    case 'int8':
    case 'oid':
      return { longValue: Number(text) };
    case 'float4':
    case 'float8':
      return { doubleValue: Number(text) };
    case 'bool':
      return { booleanValue: text === 't' };
    case 'bytea':
      return { blobValue: Buffer.from(text.replace(/^\\x/, ''), 'hex').toString('base64') };
    case 'timestamptz':
      return { stringValue: text.replace(/[+-]\d\d(:\d\d)?$/, '') };
    default:
      return { stringValue: text };
  }
}

type Nested = (string | null | Nested)[];

function toArray(values: Nested, elementType: string): ArrayValue {
  if (values.some(Array.isArray))
    return { arrayValues: values.map((v) => toArray(Array.isArray(v) ? v : [v], elementType)) };
  const flat = values as (string | null)[];
  if (/^int[248]$/.test(elementType)) return { longValues: flat.map((v) => (v === null ? null : Number(v))) };
  if (/^float[48]$/.test(elementType)) return { doubleValues: flat.map((v) => (v === null ? null : Number(v))) };
  if (elementType === 'bool') return { booleanValues: flat.map((v) => (v === null ? null : v === 't')) };
  if (elementType === 'timestamptz')
    return { stringValues: flat.map((v) => v?.replace(/[+-]\d\d(:\d\d)?$/, '') ?? null) };
  return { stringValues: flat };
}

/** PostgreSQL's array output: `{a,"b c",NULL,{1,2}}`. */
export function parseArrayLiteral(text: string): Nested {
  let i = 0;
  const parse = (): Nested => {
    const out: Nested = [];
    i += 1; // {
    while (i < text.length && text[i] !== '}') {
      if (text[i] === '{') out.push(parse());
      else if (text[i] === '"') {
        let value = '';
        i += 1;
        while (text[i] !== '"') {
          if (text[i] === '\\') i += 1;
          value += text[i];
          i += 1;
        }
        i += 1;
        out.push(value);
      } else {
        let j = i;
        while (text[j] !== ',' && text[j] !== '}') j += 1;
        const raw = text.slice(i, j);
        out.push(raw === 'NULL' ? null : raw);
        i = j;
      }
      if (text[i] === ',') i += 1;
    }
    i += 1; // }
    return out;
  };
  return text.startsWith('{') ? parse() : [];
}

function jsonOf(field: Field): unknown {
  if (field.isNull) return null;
  if (field.arrayValue) return arrayJson(field.arrayValue);
  return field.stringValue ?? field.longValue ?? field.doubleValue ?? field.booleanValue ?? field.blobValue ?? null;
}

function arrayJson(array: ArrayValue): unknown[] {
  return (
    array.arrayValues?.map(arrayJson) ??
    array.stringValues ??
    array.longValues ??
    array.doubleValues ??
    array.booleanValues ??
    []
  );
}

/** java.sql.Types codes, as the Data API reports them. */
function jdbcType(type: string): number {
  if (type.startsWith('_')) return 2003;
  const codes: Record<string, number> = {
    bool: -7,
    int2: 5,
    int4: 4,
    int8: -5,
    float4: 7,
    float8: 8,
    numeric: 2,
    bytea: -2,
    date: 91,
    time: 92,
    timestamp: 93,
    timestamptz: 93,
  };
  return codes[type] ?? 12;
}

function sqlError(error: unknown): ServiceError {
  const e = error as { message?: string; code?: string; position?: string };
  const position = e.position ? `\n  Position: ${e.position}` : '';
  return new ServiceError(
    'BadRequestException',
    400,
    `ERROR: ${e.message ?? String(error)}${position}; SQLState: ${e.code ?? 'XX000'}`,
  );
}

function rethrowSql(error: unknown): never {
  throw error instanceof ServiceError ? error : sqlError(error);
}
