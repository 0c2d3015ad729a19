import {
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import pg from 'pg';

export interface PlaintextScan {
  /** `table.column` of every text, json and bytea column read. */
  readonly columns: string[];
  /** Every needle found, with where. */
  readonly hits: string[];
  readonly objectsRead: number;
}

/**
 * Reads every text, varchar, json(b) and bytea column of every table in the stack's schema, and every object in
 * every bucket of its S3, looking for each needle as UTF-8 and as base64 of its UTF-8 bytes.
 */
export async function scanForPlaintext(
  databaseUrl: string,
  schemaName: string,
  needles: readonly string[],
): Promise<PlaintextScan> {
  const forms = needles.flatMap((needle) => [
    needle,
    Buffer.from(needle, 'utf8').toString('base64').replace(/=+$/, ''),
  ]);
  const columns: string[] = [];
  const hits: string[] = [];
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    const found = await db.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
       WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
         AND c.data_type IN ('text', 'character varying', 'json', 'jsonb', 'bytea')`,
      [schemaName],
    );
    for (const { table_name: table, column_name: column, data_type: type } of found.rows) {
      columns.push(`${table}.${column}`);
      const where =
        type === 'bytea' ? `position($1::bytea IN ${quote(column)}) > 0` : `strpos(${quote(column)}::text, $1) > 0`;
      for (const form of forms) {
        const result = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${quote(schemaName)}.${quote(table)} WHERE ${where}`,
          [type === 'bytea' ? Buffer.from(form, 'utf8') : form],
        );
        if ((result.rows[0]?.n ?? 0) > 0) hits.push(`${table}.${column} holds ${JSON.stringify(form)}`);
      }
    }
  } finally {
    await db.end();
  }

  const s3 = s3Client();
  let objectsRead = 0;
  try {
    const buckets = (await s3.send(new ListBucketsCommand({}))).Buckets ?? [];
    for (const bucket of buckets) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket.Name }));
      for (const object of listed.Contents ?? []) {
        const body = await (
          await s3.send(new GetObjectCommand({ Bucket: bucket.Name, Key: object.Key }))
        ).Body?.transformToByteArray();
        objectsRead++;
        const text = Buffer.from(body ?? []).toString('latin1');
        for (const form of forms) {
          if (text.includes(Buffer.from(form, 'utf8').toString('latin1')))
            hits.push(`s3://${bucket.Name}/${object.Key} holds ${JSON.stringify(form)}`);
        }
      }
    }
  } finally {
    s3.destroy();
  }
  return { columns, hits, objectsRead };
}

/**
 * Plants a needle where ciphertext lives (appended to one stored message's ciphertext, and as an S3 object), so a test can
 * show the scan finds what is there and cannot pass vacuously.
 */
export async function plantNeedle(databaseUrl: string, schemaName: string, needle: string): Promise<void> {
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(
      `UPDATE ${quote(schemaName)}.messages SET sender_key_ciphertext = coalesce(sender_key_ciphertext, '') || convert_to($1, 'UTF8')
       WHERE ctid = (SELECT ctid FROM ${quote(schemaName)}.messages WHERE type = 'message' LIMIT 1)`,
      [needle],
    );
  } finally {
    await db.end();
  }
  const s3 = s3Client();
  try {
    const bucket = process.env.ATTACHMENTS_BUCKET ?? 'ciphertalk-attachments-local';
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'planted/needle.bin', Body: `x${needle}x` }));
  } finally {
    s3.destroy();
  }
}

function s3Client(): S3Client {
  // startLocalStack writes the functions' variables (S3_ENDPOINT, credentials for the emulator) to process.env.
  return new S3Client({
    region: process.env.AWS_REGION ?? 'us-east-1',
    endpoint: process.env.S3_ENDPOINT,
    forcePathStyle: true,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'S3RVER',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'S3RVER',
    },
  });
}

const quote = (identifier: string) => `"${identifier.replaceAll('"', '""')}"`;
