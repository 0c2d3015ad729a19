import { defineProject } from 'vitest/config';

/**
 * The browser tests: the built SPA (web/dist, built once by the global setup) served by an in-process local stack
 * on real PostgreSQL and Redis, driven in Debian's Chromium through playwright-core.
 */
export default defineProject({
  test: {
    name: 'web-browser',
    include: ['test/browser/**/*.browser.test.ts'],
    globalSetup: ['test/browser/support/global-setup.ts', '../infra/test/support/twin-template.global.ts'],
    // The twin enforces the template's IAM: its SDK credentials installed before any client loads.
    setupFiles: ['../infra/test/support/twin-iam-setup.ts'],
    // A stack (PostgreSQL schema, migrations) plus a browser per file, and scenarios of many steps: these bound
    // a hang, they are not performance assertions.
    hookTimeout: 120_000,
    // One file at a time: each runs a stack and a Chromium with two or three contexts, which is plenty for
    // a two-core CI machine that also runs the other projects.
    fileParallelism: false,
    // And after the other projects (groups run in order): a starved CPU delays sockets into reconnect backoff.
    sequence: { groupOrder: 1 },
    testTimeout: 120_000,
    env: { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
