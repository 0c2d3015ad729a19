import { functions } from '@ciphertalk/shared/routes';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { migrateFunctionName } from '../../lib/ciphertalk-stack.ts';
import { handlerEntry, nativePackages, repoRoot, scanImports } from '../../lib/function-access.ts';

/**
 * Cold start (issue 13, finding 11): each function loads only the SDK clients and drivers its code uses.
 * The table is written from what each handler does; the import scan the stack grants from must agree, and
 * the esbuild bundle (as the stack builds it) must not carry what the function never loads.
 */
const heavy = /^(pg|ioredis|argon2|jose|@aws-sdk\/.+)$/;
const expected: Readonly<Record<string, readonly string[]>> = {
  health: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-rds-data', '@aws-sdk/client-s3', 'ioredis'],
  wsConnect: ['ioredis'],
  wsDisconnect: ['@aws-sdk/client-apigatewaymanagementapi', '@aws-sdk/client-rds-data', 'ioredis'],
  wsDefault: ['@aws-sdk/client-apigatewaymanagementapi'],
  wsPing: ['@aws-sdk/client-apigatewaymanagementapi'],
  realtime: [
    '@aws-sdk/client-apigatewaymanagementapi',
    '@aws-sdk/client-rds-data',
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/s3-request-presigner',
    'ioredis',
  ],
  auth: [
    '@aws-sdk/client-apigatewaymanagementapi',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-rds-data',
    '@aws-sdk/client-secrets-manager',
    '@aws-sdk/client-sesv2',
    'argon2',
    'ioredis',
    'jose',
  ],
  authorizer: ['@aws-sdk/client-rds-data', '@aws-sdk/client-secrets-manager', 'jose'],
  devices: [
    '@aws-sdk/client-apigatewaymanagementapi',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-rds-data',
    'ioredis',
  ],
  openapi: [],
  users: ['@aws-sdk/client-dynamodb', '@aws-sdk/client-rds-data'],
  conversations: [
    '@aws-sdk/client-apigatewaymanagementapi',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-rds-data',
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/s3-request-presigner',
    'ioredis',
  ],
  attachments: [
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-rds-data',
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/s3-request-presigner',
  ],
  calls: ['@aws-sdk/client-secrets-manager'],
  retention: [
    '@aws-sdk/client-rds-data',
    '@aws-sdk/client-s3',
    '@aws-sdk/s3-presigned-post',
    '@aws-sdk/s3-request-presigner',
  ],
  me: [
    '@aws-sdk/client-apigatewaymanagementapi',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-rds-data',
    'argon2',
    'ioredis',
  ],
  [migrateFunctionName]: ['@aws-sdk/client-rds-data'],
};

describe('each function loads only what it uses', () => {
  it('has a row for every function of the route table', () => {
    expect(Object.keys(expected).sort()).toEqual([...Object.keys(functions), migrateFunctionName].sort());
  });

  it('reaches exactly its SDK clients and drivers through its imports (pg only on first use, never in Lambda)', () => {
    const actual = Object.fromEntries(
      Object.keys(expected).map((name) => [name, [...scanImports(name).packages].filter((p) => heavy.test(p)).sort()]),
    );
    expect(actual).toEqual(Object.fromEntries(Object.entries(expected).map(([name, p]) => [name, [...p].sort()])));
  });

  it('bundles no driver the function does not load: the real-time hot path carries neither pg nor argon2', async () => {
    for (const name of ['wsPing', 'wsDefault', 'wsConnect', 'authorizer', 'realtime', 'health']) {
      const result = await build({
        entryPoints: [handlerEntry(name)],
        absWorkingDir: repoRoot,
        bundle: true,
        write: false,
        metafile: true,
        platform: 'node',
        format: 'esm',
        target: 'node24',
        mainFields: ['module', 'main'],
        external: ['@aws-sdk/*', ...Object.values(nativePackages).flat()],
        logLevel: 'silent',
      });
      const inputs = Object.keys(result.metafile.inputs);
      const packages = new Set(
        inputs
          .flatMap((path) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? [])
          .filter((p) => heavy.test(p)),
      );
      const loadsLazily = name !== 'wsPing' && name !== 'wsDefault' && name !== 'wsConnect' ? ['pg'] : [];
      expect([...packages].filter((p) => !loadsLazily.includes(p)).sort(), name).toEqual(
        (expected[name] ?? []).filter((p) => !p.startsWith('@aws-sdk/')).sort(),
      );
    }
  });
});
