import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freshSchema, testRedisUrl } from '@ciphertalk/functions/test/support/services.ts';
import { type LocalStack, startLocalStack } from '@ciphertalk/infra/local/stack.ts';
import { Redis } from 'ioredis';

export const webRoot = fileURLToPath(new URL('../../../dist/', import.meta.url));

export interface BrowserStack {
  readonly stack: LocalStack;
  /** http://localhost:<port>: the SPA, with /config.json naming the stack's REST and WebSocket URLs. */
  readonly webUrl: string;
  /** The stack's PostgreSQL schema (its URL sets the search_path). */
  readonly databaseUrl: string;
  readonly schemaName: string;
  stop(): Promise<void>;
}

/**
 * A local stack serving web/dist, on a fresh PostgreSQL schema and a Redis logical database of its own (flushed
 * before and after). The web port is chosen up front because the API's CORS origin is derived from it.
 */
export async function startBrowserStack(options: { redisDb: number }): Promise<BrowserStack> {
  const schema = await freshSchema();
  const redis = new URL(testRedisUrl);
  redis.pathname = `/${options.redisDb}`;
  const redisClient = new Redis(redis.toString());
  await redisClient.flushdb();
  const webPort = await freePort();
  const stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: webPort },
    webRoot,
    env: { DATABASE_URL: schema.url, REDIS_URL: redis.toString(), RATE_LIMIT_MULTIPLIER: '100' },
  });
  const webUrl = stack.webUrl;
  if (!webUrl) throw new Error('the stack serves no SPA');
  const schemaName = new URL(schema.url).searchParams.get('options')?.replace('-c search_path=', '') ?? '';
  return {
    stack,
    webUrl,
    databaseUrl: schema.url,
    schemaName,
    async stop() {
      await stack.stop();
      await redisClient.flushdb();
      redisClient.disconnect();
      await schema.drop();
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
