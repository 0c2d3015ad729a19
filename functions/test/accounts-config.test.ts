import { describe, expect, it } from 'vitest';
import { parseConfig } from '#config';

/** Accounts configuration: the JWT key from exactly one place, mail settings that make sense, safe defaults. */
const base = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  ATTACHMENTS_BUCKET: 'attachments',
  RATE_LIMIT_TABLE: 'rate-limits',
  AUDIT_TABLE: 'audit',
  WS_MANAGEMENT_ENDPOINT: 'https://example.execute-api.us-east-1.amazonaws.com/prod',
};
const secret = 'x'.repeat(43);
const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt';

describe('accounts configuration', () => {
  it('takes the JWT key from JWT_SECRET or JWT_SECRET_ARN, never both or neither, never echoing it', () => {
    expect(parseConfig({ ...base, JWT_SECRET: secret }).jwt).toMatchObject({ secret, secretArn: undefined });
    expect(parseConfig({ ...base, JWT_SECRET_ARN: arn }).jwt).toMatchObject({ secret: undefined, secretArn: arn });
    // A function without the key (it signs and verifies nothing) has neither; access-tokens.ts requires one.
    expect(parseConfig(base).jwt).toMatchObject({ secret: undefined, secretArn: undefined });
    expect(() => parseConfig({ ...base, JWT_SECRET: secret, JWT_SECRET_ARN: arn })).toThrow(/exactly one/);
    let message = '';
    try {
      parseConfig({ ...base, JWT_SECRET: 'too-short' });
    } catch (error) {
      message = String(error);
    }
    expect(message).toContain('JWT_SECRET');
    expect(message).not.toContain('too-short');
  });

  it('defaults to 15-minute access tokens, 30-day refresh tokens, 90-day sessions, the /auth cookie path and SES', () => {
    const config = parseConfig({ ...base, JWT_SECRET: secret });
    expect(config.jwt).toMatchObject({ issuer: 'ciphertalk', audience: 'ciphertalk-api', accessTokenTtlSeconds: 900 });
    expect(config.sessions).toEqual({
      refreshTokenTtlSeconds: 30 * 24 * 3600,
      maxAgeSeconds: 90 * 24 * 3600,
      refreshCookiePath: '/auth',
    });
    expect(config.rateLimitMultiplier).toBe(1);
    expect(config.mail).toMatchObject({ mailer: 'ses', appUrl: 'http://localhost:5173' });
  });

  it('refuses RATE_LIMIT_MULTIPLIER above 1 inside Lambda: a deployment cannot loosen the limits by mistake', () => {
    const lambda = { ...base, JWT_SECRET: secret, AWS_LAMBDA_FUNCTION_NAME: 'ciphertalk-prod-auth' };
    expect(() => parseConfig({ ...lambda, RATE_LIMIT_MULTIPLIER: '100' })).toThrow(/RATE_LIMIT_MULTIPLIER/);
    expect(parseConfig({ ...lambda, RATE_LIMIT_MULTIPLIER: '1' }).rateLimitMultiplier).toBe(1);
    expect(parseConfig(lambda).rateLimitMultiplier).toBe(1);
    // The local twin (no Lambda runtime) may scale them for tests.
    expect(parseConfig({ ...base, JWT_SECRET: secret, RATE_LIMIT_MULTIPLIER: '100' }).rateLimitMultiplier).toBe(100);
  });

  it('refuses access tokens living longer than an hour, and an outbox without a directory', () => {
    expect(() => parseConfig({ ...base, JWT_SECRET: secret, ACCESS_TOKEN_TTL_SECONDS: '86400' })).toThrow(
      /ACCESS_TOKEN_TTL_SECONDS/,
    );
    expect(() => parseConfig({ ...base, JWT_SECRET: secret, MAILER: 'outbox' })).toThrow(/MAIL_OUTBOX_DIR/);
    expect(
      parseConfig({ ...base, JWT_SECRET: secret, MAILER: 'outbox', MAIL_OUTBOX_DIR: '/tmp/o' }).mail,
    ).toMatchObject({
      mailer: 'outbox',
      outboxDir: '/tmp/o',
    });
  });
});
