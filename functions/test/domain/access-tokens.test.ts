import { describe, expect, it } from 'vitest';
import { AccessTokens, InvalidAccessToken } from '#domain/access-tokens.ts';

const key = new TextEncoder().encode('k'.repeat(32));
const claims = { userId: '8b0f3c36-1f7e-4d64-9d3c-0d9b9c1f2a10', sessionId: '5f1c2d3e-4a5b-4c6d-8e7f-0a1b2c3d4e5f' };

function tokensAt(time: number, overrides: Partial<ConstructorParameters<typeof AccessTokens>[0]> = {}) {
  return new AccessTokens({
    key,
    issuer: 'ciphertalk',
    audience: 'ciphertalk-api',
    ttlSeconds: 900,
    clock: () => new Date(time),
    ...overrides,
  });
}

describe('AccessTokens', () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');

  it('round-trips the user and session', async () => {
    const token = await tokensAt(t0).sign(claims);
    await expect(tokensAt(t0 + 60_000).verify(token)).resolves.toEqual(claims);
  });

  it('refuses a token past its expiry, with 5 s of clock tolerance', async () => {
    const token = await tokensAt(t0).sign(claims);
    await expect(tokensAt(t0 + 904_000).verify(token)).resolves.toEqual(claims);
    await expect(tokensAt(t0 + 906_000).verify(token)).rejects.toBeInstanceOf(InvalidAccessToken);
  });

  it('refuses another key, issuer or audience', async () => {
    const token = await tokensAt(t0).sign(claims);
    const other = new TextEncoder().encode('o'.repeat(32));
    for (const verifier of [
      tokensAt(t0, { key: other }),
      tokensAt(t0, { issuer: 'someone-else' }),
      tokensAt(t0, { audience: 'another-api' }),
    ]) {
      await expect(verifier.verify(token)).rejects.toBeInstanceOf(InvalidAccessToken);
    }
  });

  it('refuses garbage without throwing anything but InvalidAccessToken', async () => {
    for (const token of ['', 'a.b.c', 'not a jwt', `${'x'.repeat(10)}..`]) {
      await expect(tokensAt(t0).verify(token)).rejects.toBeInstanceOf(InvalidAccessToken);
    }
  });

  it('will not work with a short key', () => {
    expect(() => tokensAt(t0, { key: new Uint8Array(16) })).toThrow(/32 bytes/);
  });
});
