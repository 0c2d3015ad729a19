import { fileURLToPath } from 'node:url';
import { defineProject } from 'vitest/config';

/**
 * The fault suite (`npm run test:faults`): kills and restarts its own PostgreSQL (initdb + pg_ctl) and
 * redis-server on free ports, never the shared services. Separate from `npm test` because it takes about a
 * minute of wall time; CI runs both.
 */
export default defineProject({
  root: fileURLToPath(new URL('.', import.meta.url)),
  test: {
    name: 'faults',
    include: ['test/faults/**/*.faults.test.ts'],
    // The handlers run with the template's IAM, as in the other suites.
    globalSetup: ['./test/support/twin-template.global.ts'],
    setupFiles: ['./test/support/twin-iam-setup.ts'],
    hookTimeout: 120_000,
    testTimeout: 180_000,
    env: { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
