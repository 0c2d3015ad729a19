import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'infra',
    include: ['test/**/*.test.ts'],
    // The fault suite restarts services: its own run (`npm run test:faults`, vitest.faults.config.ts).
    exclude: [...configDefaults.exclude, 'test/faults/**'],
    globalSetup: ['./test/support/twin-template.global.ts'],
    setupFiles: ['./test/support/twin-iam-setup.ts'],
    // Stacks start PGlite (~5 s) and real sockets: generous hook timeouts, no timed assertions.
    hookTimeout: 60_000,
    testTimeout: 20_000,
    env: { POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' },
  },
});
