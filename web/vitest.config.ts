import { defineProject } from 'vitest/config';

/**
 * The engine's tests in Node: unit tests of its pure parts, and integration tests where several engines
 * (each with its own fake IndexedDB database) talk through the real local stack (PostgreSQL, Redis, the
 * API Gateway twin). The browser tests of the UI have their own project (vitest.browser.config.ts).
 */
export default defineProject({
  test: {
    name: 'web',
    include: ['test/engine/**/*.test.ts'],
    // The twin enforces the template's IAM: its template synthesized (or read) once, its SDK credentials first.
    globalSetup: ['../infra/test/support/twin-template.global.ts'],
    setupFiles: ['../infra/test/support/twin-iam-setup.ts', 'fake-indexeddb/auto'],
    // A stack per file (schema, migrations) and many real round trips per scenario: these bound a hang.
    hookTimeout: 60_000,
    testTimeout: 60_000,
    env: { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
