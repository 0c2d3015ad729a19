import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadJwtKey } from '#adapters/jwt-key.ts';

/** The key from Secrets Manager, against a local stand-in for the service (the SDK's real client and protocol). */
let server: Server;
const requests: { target: string; body: { SecretId?: string } }[] = [];
const secrets: Record<string, string> = {
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt': 'k'.repeat(44),
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:short': 'tiny-secret-value',
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      const body = JSON.parse(text) as { SecretId?: string };
      requests.push({ target: String(req.headers['x-amz-target']), body });
      const value = secrets[body.SecretId ?? ''];
      res.writeHead(value ? 200 : 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify(
          value
            ? { ARN: body.SecretId, SecretString: value }
            : { __type: 'ResourceNotFoundException', message: 'not found' },
        ),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER;
  await new Promise((resolve) => server.close(resolve));
});

describe('loadJwtKey', () => {
  it('uses JWT_SECRET as it is, without calling Secrets Manager', async () => {
    const key = await loadJwtKey({ secret: 's'.repeat(40), region: 'us-east-1' });
    expect(new TextDecoder().decode(key)).toBe('s'.repeat(40));
    expect(requests).toEqual([]);
  });

  it('reads the SecretString of JWT_SECRET_ARN with GetSecretValue', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt';
    const key = await loadJwtKey({ secretArn: arn, region: 'us-east-1' });
    expect(new TextDecoder().decode(key)).toBe('k'.repeat(44));
    expect(requests.at(-1)).toEqual({ target: 'secretsmanager.GetSecretValue', body: { SecretId: arn } });
  });

  it('refuses a key shorter than 32 bytes and a missing secret, without printing the value', async () => {
    const short = loadJwtKey({
      secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:short',
      region: 'us-east-1',
    });
    const error = (await short.then(
      () => new Error('resolved'),
      (e: unknown) => e,
    )) as Error;
    expect(error.message).toMatch(/shorter than 32 bytes/);
    expect(error.message).not.toContain('tiny-secret-value');
    await expect(
      loadJwtKey({ secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:none', region: 'us-east-1' }),
    ).rejects.toThrow();
  });
});
