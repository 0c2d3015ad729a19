import { createPostgresDb } from '#adapters/postgres.ts';
import { dbContract } from '../contracts/db.contract.ts';
import { freshSchema } from '../support/services.ts';

dbContract('PostgreSQL', async () => {
  const schema = await freshSchema();
  const db = createPostgresDb(schema.url);
  return {
    db,
    async tearDown() {
      await db.close();
      await schema.drop();
    },
  };
});
