import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'shared',
    include: ['test/**/*.test.ts'],
    // Property tests run hundreds of ratchet steps: on a busy 2-core CI machine one can take
    // well over vitest's 5 s default. This bounds a hang; it is not a performance assertion.
    testTimeout: 60_000,
  },
});
