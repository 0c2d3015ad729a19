import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * PostgreSQL without a server: PGlite (Postgres compiled to WASM) behind its
 * wire-protocol socket server, so the functions reach it with node-postgres
 * exactly as they reach a real PostgreSQL. PGlite runs one query at a time for
 * all connections: fine for one developer, never for load.
 */
export async function startPglite(options: {
  dataDir: string | null;
  port: number;
  host?: string;
}): Promise<EmbeddedPostgres> {
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir ?? 'memory://');
  const host = options.host ?? '127.0.0.1';
  const server = new PGLiteSocketServer({ db, port: options.port, host, maxConnections: 64 });
  await server.start();
  const address = server.getServerConn();
  const port = Number(address.split(':').pop());
  return {
    url: `postgres://postgres:postgres@${host}:${port}/postgres?sslmode=disable`,
    async close() {
      await server.stop();
      await db.close();
    },
  };
}
