import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../local/stack.ts';
import { fetchJson } from './support/fixtures.ts';

/** A port nothing listens on: take one from the OS, then let it go. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let stack: LocalStack;
beforeAll(async () => {
  process.env.HEALTH_CHECK_TIMEOUT_MS = '1500';
  stack = await startLocalStack({
    dataDir: null,
    ports: { rest: 0, ws: 0, web: null },
    env: { REDIS_URL: `redis://127.0.0.1:${await deadPort()}` },
  });
});
afterAll(() => stack?.stop());

describe('GET /health when a dependency is down', () => {
  it('answers 503, names the dependency, and hides why', async () => {
    const { status, body, text } = await fetchJson(`${stack.restUrl}/health`);
    expect(status).toBe(503);
    expect(body).toEqual({ status: 'down', database: 'ok', redis: 'down', s3: 'ok', dynamodb: 'ok' });
    expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });
});
