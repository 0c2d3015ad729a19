import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'functions',
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // The functions read configuration at module scope, as in Lambda; unit tests get harmless values.
    // Integration tests reach real services through TEST_DATABASE_URL / TEST_REDIS_URL (test/support/services.ts).
    env: {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/unused',
      ATTACHMENTS_BUCKET: 'test-attachments',
      RATE_LIMIT_TABLE: 'test-rate-limits',
      AUDIT_TABLE: 'test-audit',
      WS_MANAGEMENT_ENDPOINT: 'http://127.0.0.1:1/local',
      ALLOWED_ORIGINS: 'http://localhost:5173',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      POWERTOOLS_METRICS_DISABLED: 'true',
      JWT_SECRET: 'unit-test-secret-unit-test-secret-unit-test',
    },
  },
});
