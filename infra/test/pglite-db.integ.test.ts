import { createPostgresDb } from '@ciphertalk/functions/adapters/postgres.ts';
import { dbContract } from '@ciphertalk/functions/test/contracts/db.contract.ts';
import { startPglite } from '../local/services/pglite.ts';

/** The Db contract that real PostgreSQL passes (functions/test), run against embedded PGlite over its socket. */
dbContract('PGlite over pglite-socket', async () => {
  const pglite = await startPglite({ dataDir: null, port: 0 });
  const db = createPostgresDb(pglite.url);
  return {
    db,
    async tearDown() {
      await db.close();
      await pglite.close();
    },
  };
});
