import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ensureTestDatabase from '@ciphertalk/functions/test/support/global-setup.ts';

const webDir = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Builds the SPA the tests load (`vite build` into web/dist, as `npm start` serves it), so `npm test` on a clean
 * clone needs no separate build step, and creates the test database when it is missing.
 */
export default async function setup(): Promise<void> {
  await Promise.all([
    // NODE_ENV: vitest sets `test`, which a child vite would take for a development build (preact/debug and all).
    promisify(execFile)('npx', ['vite', 'build', '--logLevel', 'warn'], {
      cwd: webDir,
      env: { ...process.env, NODE_ENV: 'production' },
    }),
    ensureTestDatabase(),
  ]);
}
