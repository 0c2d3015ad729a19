import { freshSchema, testRedisUrl } from '@ciphertalk/functions/test/support/services.ts';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.ts';

export interface StackFixture {
  /** Set once the file's first `beforeAll` has run. */
  readonly stack: LocalStack;
  /** The test file's own PostgreSQL schema, which the stack's DATABASE_URL points at. */
  readonly schema: { readonly url: string };
  /** A client on the stack's Redis logical database, when one was asked for. */
  readonly redis: Redis;
}

/**
 * One local stack per test file, with the real handlers, on a fresh PostgreSQL
 * schema (and, with `redisDb`, on that Redis logical database, flushed after
 * the file); DynamoDB and S3 stay embedded. Registers its own `beforeAll` and
 * `afterAll`, so call it at the top of the file, before hooks that use it.
 * (The handlers read process.env at import: one stack per file.)
 */
export function stackOnFreshSchema(options: { env?: Readonly<Record<string, string>>; redisDb?: number } = {}) {
  let stack: LocalStack | undefined;
  let schema: Awaited<ReturnType<typeof freshSchema>> | undefined;
  let redis: Redis | undefined;
  const fixture: StackFixture = {
    get stack() {
      return ready(stack);
    },
    get schema() {
      return ready(schema);
    },
    get redis() {
      return ready(redis);
    },
  };

  beforeAll(async () => {
    schema = await freshSchema();
    let redisUrl: string | undefined;
    if (options.redisDb !== undefined) {
      const url = new URL(testRedisUrl);
      url.pathname = `/${options.redisDb}`;
      redisUrl = url.toString();
      redis = new Redis(redisUrl);
    }
    stack = await startLocalStack({
      dataDir: null,
      ports: { rest: 0, ws: 0, web: null },
      env: { DATABASE_URL: schema.url, ...(redisUrl ? { REDIS_URL: redisUrl } : {}), ...options.env },
    });
  });
  afterAll(async () => {
    await stack?.stop();
    if (redis) {
      await redis.flushdb();
      redis.disconnect();
    }
    await schema?.drop();
  });
  return fixture;
}

function ready<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('the stack fixture is not started: use it inside tests or later hooks');
  return value;
}
