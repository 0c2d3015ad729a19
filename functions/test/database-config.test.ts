import { describe, expect, it } from 'vitest';
import { parseConfig, required } from '#config';

/** The database driver is a configuration choice: the Data API in AWS, the wire protocol elsewhere. */
const base = {
  ATTACHMENTS_BUCKET: 'attachments',
  RATE_LIMIT_TABLE: 'rate-limits',
  AUDIT_TABLE: 'audit',
  WS_MANAGEMENT_ENDPOINT: 'https://example.execute-api.us-east-1.amazonaws.com/prod',
  JWT_SECRET: 'unit-test-secret-unit-test-secret-unit-test',
};
const dataApi = {
  DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:000000000000:cluster:c',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:s',
  DB_NAME: 'ciphertalk',
};

describe('database configuration', () => {
  it('selects the Data API when the DB_* variables are set', () => {
    expect(parseConfig({ ...base, ...dataApi }).database).toEqual({
      driver: 'data-api',
      resourceArn: dataApi.DB_CLUSTER_ARN,
      secretArn: dataApi.DB_SECRET_ARN,
      database: 'ciphertalk',
      endpoint: undefined,
    });
  });

  it('selects node-postgres with DATABASE_URL', () => {
    expect(parseConfig({ ...base, DATABASE_URL: 'postgres://u@127.0.0.1:5432/db' }).database).toEqual({
      driver: 'postgres',
      url: 'postgres://u@127.0.0.1:5432/db',
    });
  });

  it('names what is missing, never a value', () => {
    expect(() => parseConfig({ ...base, DB_CLUSTER_ARN: dataApi.DB_CLUSTER_ARN })).toThrow(
      'Invalid configuration: set DB_SECRET_ARN, DB_NAME',
    );
    // A function without database access has none: clients/db.ts requires one when it loads.
    expect(parseConfig(base).database).toBeUndefined();
    expect(() =>
      required(parseConfig(base).database, 'DATABASE_URL, or DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME'),
    ).toThrow(/set DATABASE_URL, or DB_CLUSTER_ARN, DB_SECRET_ARN, DB_NAME/);
  });

  it('switches Redis to cluster mode only when told', () => {
    expect(parseConfig({ ...base, ...dataApi }).redisCluster).toBe(false);
    expect(parseConfig({ ...base, ...dataApi, REDIS_CLUSTER: 'true' }).redisCluster).toBe(true);
  });
});
