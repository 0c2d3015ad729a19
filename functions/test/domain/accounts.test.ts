import { describe, expect, it } from 'vitest';
import { AccessTokens } from '#domain/access-tokens.ts';
import { type AccountDeps, checkPasswordPolicy, login } from '#domain/accounts.ts';
import type { Db } from '#ports/db.ts';
import type { PasswordHasher } from '#ports/passwords.ts';

describe('password policy', () => {
  it('refuses the email address and its local part, in any case', () => {
    expect(() => checkPasswordPolicy('Alice.Smith@Example.com', 'alice.smith@example.com')).toThrow(/email/);
    expect(() => checkPasswordPolicy('ALICE.SMITH', 'alice.smith@example.com')).toThrow(/email/);
    expect(() => checkPasswordPolicy('alice.smith-2026!', 'alice.smith@example.com')).not.toThrow();
  });
});

describe('login', () => {
  function deps(rows: Record<string, unknown>[]) {
    const verified: string[] = [];
    const audited: { userId: string; type: string }[] = [];
    const passwords: PasswordHasher = {
      hash: async (p) => `hash:${p}`,
      verify: async (hash, password) => {
        verified.push(hash);
        return hash === `hash:${password}`;
      },
      dummyHash: async () => 'dummy-hash',
    };
    const db: Db = { query: async () => rows as never[], transaction: (work) => work(db) };
    const value: AccountDeps = {
      db,
      passwords,
      clock: () => new Date(),
      audit: {
        record: async (event) => {
          audited.push({ userId: event.userId, type: event.type });
        },
        list: async () => ({ events: [], nextCursor: null }),
      },
      limiter: { hit: async () => ({ allowed: true, retryAfterSeconds: 0 }) },
      limitScale: 1,
      realtime: {
        registry: {
          add: async () => undefined,
          refresh: async () => true,
          remove: async () => null,
          get: async () => null,
          connectionsOf: async () => new Map(),
          ping: async () => undefined,
          addTicket: async () => undefined,
          takeTicket: async () => null,
          revokeTickets: async () => undefined,
          recordRevocation: async () => undefined,
          revocations: async () => ({}),
          markOnline: async () => true,
          markOffline: async () => undefined,
          presenceOf: async () => new Map(),
          hit: async () => 1,
        },
        connections: { post: async () => 'sent', disconnect: async () => 'closed' },
      },
      sessions: { refreshTokenTtlSeconds: 3600, maxAgeSeconds: 7200 },
      tokens: new AccessTokens({
        key: new Uint8Array(32),
        issuer: 'i',
        audience: 'a',
        ttlSeconds: 60,
        clock: () => new Date(),
      }),
    };
    return { value, verified, audited };
  }
  const meta = { sourceIp: '203.0.113.1', userAgent: 'test' };

  it('verifies an unknown email against the dummy hash, then answers like a wrong password', async () => {
    const unknown = deps([]);
    const error = await login(unknown.value, { email: 'nobody@example.test', password: 'whatever' }, meta).catch(
      (e: unknown) => e,
    );
    expect(unknown.verified).toEqual(['dummy-hash']);
    const known = deps([
      { id: 'u', email: 'e', display_name: 'd', password_hash: 'hash:right', created_at: new Date() },
    ]);
    const wrong = await login(known.value, { email: 'e@example.test', password: 'wrong' }, meta).catch(
      (e: unknown) => e,
    );
    expect(known.verified).toEqual(['hash:right']);
    expect(error).toMatchObject({ status: 401, code: 'invalid_credentials' });
    // The same audit write either way (no timing difference), never under a readable user id for an unknown email.
    expect(known.audited).toEqual([{ userId: 'u', type: 'login_failed' }]);
    expect(unknown.audited).toEqual([
      { userId: expect.stringMatching(/^unknown-email:[\w-]{32}$/), type: 'login_failed' },
    ]);
    expect(wrong).toMatchObject({ status: 401, code: 'invalid_credentials', message: (error as Error).message });
  });
});
