import pg from 'pg';
import { testDatabaseUrl } from './services.ts';

/** Creates the test database when it is missing (CI creates it fresh; a developer's machine may not have it). */
export default async function setup(): Promise<void> {
  const url = new URL(testDatabaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${name.replaceAll('"', '""')}"`);
  } finally {
    await admin.end();
  }
}
