import { describe, expect, it } from 'vitest';
import { checkHealth, type Dependency } from '#domain/health.ts';

const ok = async () => undefined;

describe('checkHealth', () => {
  it('is ok when every probe answers', async () => {
    const health = await checkHealth({ database: ok, redis: ok, s3: ok, dynamodb: ok }, 100);
    expect(health).toEqual({ status: 'ok', database: 'ok', redis: 'ok', s3: 'ok', dynamodb: 'ok' });
  });

  it('marks a dependency down when its probe throws, and says why only to onDown', async () => {
    const reasons: [Dependency, unknown][] = [];
    const health = await checkHealth(
      { database: ok, redis: () => Promise.reject(new Error('ECONNREFUSED secret-host')), s3: ok, dynamodb: ok },
      100,
      (dependency, reason) => reasons.push([dependency, reason]),
    );
    expect(health).toEqual({ status: 'down', database: 'ok', redis: 'down', s3: 'ok', dynamodb: 'ok' });
    expect(JSON.stringify(health)).not.toContain('secret-host');
    expect(reasons.map(([d]) => d)).toEqual(['redis']);
  });

  it('marks a dependency down when its probe does not answer in time', async () => {
    const hang = () => new Promise<never>(() => undefined);
    const health = await checkHealth({ database: ok, redis: ok, s3: hang, dynamodb: ok }, 20);
    expect(health.s3).toBe('down');
    expect(health.status).toBe('down');
  });
});
