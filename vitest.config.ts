import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['shared', 'functions', 'infra', 'web'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
});
