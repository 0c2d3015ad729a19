import { beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, strongPassword } from './support/api.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/** The user directory through the twin on real PostgreSQL, with the production rate limits. */
const fx = stackOnFreshSchema();
let caller: ApiClient;
const people = [
  { displayName: 'Ada Lovelace', email: 'ada.lovelace@example.test' },
  { displayName: 'Adam Smith', email: 'adam@example.test' },
  { displayName: 'Grace Hopper', email: 'grace@example.test' },
  { displayName: '100% Percent', email: 'percent@example.test' },
];
const ids = new Map<string, string>();

beforeAll(async () => {
  for (const person of people) {
    const client = new ApiClient(fx.stack.restUrl);
    const answer = await client.post('/auth/register', { ...person, password: strongPassword() });
    ids.set(person.displayName, (answer.body.user as { id: string }).id);
    caller = client;
  }
});

const search = async (q: string) => {
  const answer = await caller.get(`/users?query=${encodeURIComponent(q)}`);
  expect(answer.status, answer.text).toBe(200);
  return answer.body.users as { id: string; displayName: string; email?: string }[];
};

describe('user search', () => {
  it('matches the start of any word of a display name, case-insensitively, without showing emails', async () => {
    expect((await search('ADA')).map((u) => u.displayName)).toEqual(['Ada Lovelace', 'Adam Smith']);
    expect(await search('love')).toEqual([{ id: ids.get('Ada Lovelace'), displayName: 'Ada Lovelace' }]);
    expect(await search('ace')).toEqual([]);
  });

  it('finds a whole email address, and shows the email only then', async () => {
    expect(await search(' GRACE@example.test ')).toEqual([
      { id: ids.get('Grace Hopper'), displayName: 'Grace Hopper', email: 'grace@example.test' },
    ]);
    // Email prefixes and domains find nothing: the directory cannot be harvested for addresses.
    expect(await search('grace@')).toEqual([]);
    expect(await search('example.test')).toEqual([]);
  });

  it('treats LIKE wildcards as text', async () => {
    expect(await search('%%%')).toEqual([]);
    expect(await search('___')).toEqual([]);
    expect((await search('100%')).map((u) => u.displayName)).toEqual(['100% Percent']);
  });

  it('shows a profile by id, without the email, and 404 for unknown ids', async () => {
    const id = ids.get('Grace Hopper') as string;
    const answer = await caller.get(`/users/${id}`);
    expect(answer.body).toEqual({ user: { id, displayName: 'Grace Hopper' } });
    expect((await caller.get('/users/00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await caller.get('/users/not-a-uuid')).status).toBe(400);
    expect((await new ApiClient(fx.stack.restUrl).get(`/users/${id}`)).status).toBe(401);
  });

  it('refuses short or missing queries, and anonymous callers', async () => {
    expect((await caller.get('/users?query=ad')).status).toBe(400);
    expect((await caller.get('/users')).status).toBe(400);
    expect((await caller.get('/users?query=ada&limit=500')).status).toBe(400);
    expect((await new ApiClient(fx.stack.restUrl).get('/users?query=ada')).status).toBe(401);
  });

  it('limits a user to 60 searches a minute (429 with Retry-After)', async () => {
    // Fixed one-minute windows: even if this loop straddles a window boundary, a 429 comes within 121 searches.
    let limited: Awaited<ReturnType<ApiClient['get']>> | undefined;
    let allowed = 0;
    for (let i = 0; i < 121 && !limited; i++) {
      const answer = await caller.get('/users?query=zzz');
      if (answer.status === 429) limited = answer;
      else allowed++;
    }
    expect(limited?.body.error?.code).toBe('rate_limited');
    expect(allowed).toBeLessThanOrEqual(120);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(limited?.headers.get('retry-after'))).toBeLessThanOrEqual(60);
  });
});
