import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { defaults, logRetentionValues, readConfig } from '../../lib/config.ts';

/** The deployment's settings: cdk.json context and `-c` overrides (strings), validated before anything is built. */
const read = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('deployment settings', () => {
  it('defaults to a protected production deployment that may pause the database', () => {
    expect(read({})).toEqual(defaults);
    expect(defaults.database).toMatchObject({ minCapacity: 0, deletionProtection: true });
  });

  it('takes -c overrides, which arrive as strings', () => {
    const config = read({
      'ciphertalk:envName': 'staging',
      'ciphertalk:dbMinCapacity': '0.5',
      'ciphertalk:dbMaxCapacity': '8',
      'ciphertalk:deletionProtection': 'false',
      'ciphertalk:allowedOrigins': 'https://a.example.com, https://b.example.com',
      'ciphertalk:domainName': 'chat.example.com',
      'ciphertalk:certificateArn': 'arn:aws:acm:us-east-1:000000000000:certificate/x',
      'ciphertalk:mailFrom': 'CipherTalk <no-reply@example.com>',
      'ciphertalk:messageRetentionDays': '7',
    });
    expect(config).toMatchObject({
      envName: 'staging',
      database: { minCapacity: 0.5, maxCapacity: 8, deletionProtection: false },
      allowedOrigins: ['https://a.example.com', 'https://b.example.com'],
      domain: { name: 'chat.example.com' },
      mailFrom: 'CipherTalk <no-reply@example.com>',
      messageRetentionDays: 7,
    });
  });

  it('refuses unusable values, naming the key', () => {
    expect(() => read({ 'ciphertalk:envName': 'Prod!' })).toThrow(/ciphertalk:envName/);
    expect(() => read({ 'ciphertalk:envName': 'assets' })).toThrow(/SPA serves/);
    expect(() => read({ 'ciphertalk:dbMinCapacity': '4', 'ciphertalk:dbMaxCapacity': '2' })).toThrow(
      /ciphertalk:dbMaxCapacity/,
    );
    expect(() => read({ 'ciphertalk:domainName': 'chat.example.com' })).toThrow(/go together/);
    expect(() => read({ 'ciphertalk:allowedOrigins': 'http://insecure.example.com' })).toThrow(/not an https origin/);
    expect(() => read({ 'ciphertalk:deletionProtection': 'yes' })).toThrow(/ciphertalk:deletionProtection/);
    expect(() => read({ 'ciphertalk:turnUrls': 'https://turn.example.com' })).toThrow(/ciphertalk:turnUrls/);
    expect(() => read({ 'ciphertalk:turnSecretArn': 'secret' })).toThrow(/ciphertalk:turnSecretArn/);
  });

  it('reads the call servers: STUN and TURN URLs, and the TURN secret by ARN', () => {
    expect(read({}).calls).toEqual({ stunUrls: [], turnUrls: [] });
    expect(
      read({
        'ciphertalk:stunUrls': 'stun:stun.example.com:3478',
        'ciphertalk:turnUrls': 'turn:turn.example.com:3478, turns:turn.example.com:5349',
        'ciphertalk:turnSecretArn': 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:turn',
      }).calls,
    ).toEqual({
      stunUrls: ['stun:stun.example.com:3478'],
      turnUrls: ['turn:turn.example.com:3478', 'turns:turn.example.com:5349'],
      turnSecretArn: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:turn',
    });
  });

  it('takes only log retention periods CloudWatch accepts (finding 12)', () => {
    for (const days of logRetentionValues)
      expect(read({ 'ciphertalk:logRetentionDays': String(days) }).logRetentionDays).toBe(days);
    for (const days of ['2', '10', '31', '366', '3000']) {
      expect(() => read({ 'ciphertalk:logRetentionDays': days }), days).toThrow(
        /ciphertalk:logRetentionDays must be one of/,
      );
    }
  });

  it('reads the Aurora engine version, defaulting to PostgreSQL 16 long-term 16.8 (finding 3)', () => {
    expect(read({}).database.engineVersion).toBe('16.8');
    expect(read({ 'ciphertalk:auroraPostgresVersion': '17.5' }).database.engineVersion).toBe('17.5');
    for (const version of ['16.2', '15.7', '16', 'latest', '16.8.1']) {
      expect(() => read({ 'ciphertalk:auroraPostgresVersion': version }), version).toThrow(/auroraPostgresVersion/);
    }
  });
});
