/**
 * The typed REST client: URLs built from the contract's route keys, every answer parsed with the route's
 * response schema (off-contract answers are errors), and retries of `unavailable` / `rate_limited`.
 */
import { describe, expect, it } from 'vitest';
import { ApiClient, urlOf } from '../../src/engine/api-client.ts';
import { check } from '../../src/engine/contract-check.ts';
import { isEngineError } from '../../src/engine/errors.ts';
import { Api } from '../../src/engine/http.ts';

interface Seen {
  method: string;
  url: string;
  body: unknown;
}

/** A fetch answering from a script, recording what was asked. */
function server(answers: (() => Response)[]) {
  const seen: Seen[] = [];
  const fetchImpl = (async (input: string | URL, init?: RequestInit) => {
    seen.push({
      method: init?.method ?? 'GET',
      url: String(input),
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    const next = answers.shift();
    if (!next) throw new Error('no answer scripted');
    return next();
  }) as typeof fetch;
  return { seen, fetchImpl };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const unavailable = (retryAfterSeconds: number) =>
  json(
    503,
    { error: { code: 'unavailable', message: 'Try again', retryAfterSeconds } },
    { 'retry-after': String(retryAfterSeconds) },
  );

function client(answers: (() => Response)[], waits: number[] = [], retrying: boolean[] = []) {
  const { seen, fetchImpl } = server(answers);
  const api = new ApiClient(new Api('https://api.test', fetchImpl), {
    check: async (key, answer) => check(key, answer),
    sleep: async (ms) => {
      waits.push(ms);
    },
    onRetrying: (waiting) => retrying.push(waiting),
  });
  return { api, seen };
}

const conversationId = '0b5a3c4e-0000-4000-8000-000000000001';

describe('ApiClient', () => {
  it('builds the URL from the route key, path parameters encoded, and the query string', async () => {
    expect(urlOf('/users/{userId}/devices/{deviceId}/prekey-bundle', { userId: 'a/b', deviceId: 2 })).toBe(
      '/users/a%2Fb/devices/2/prekey-bundle',
    );
    const { api, seen } = client([json(200, { entries: [], cursor: '0', more: false })]);
    const answer = await api.call('GET /sync', { query: { cursor: '5', limit: 200 } });
    expect(answer).toEqual({ entries: [], cursor: '0', more: false });
    expect(seen).toEqual([{ method: 'GET', url: 'https://api.test/sync?cursor=5&limit=200', body: undefined }]);
  });

  it('refuses an answer off its contract: an error, never a silently wrong state', async () => {
    const { api } = client([json(200, { entries: 'nope' })]);
    const error = await api.call('GET /sync').catch((e: unknown) => e);
    expect(isEngineError(error, 'off_contract')).toBe(true);
  });

  it('refuses a success status the route does not answer', async () => {
    const { api } = client([json(202, { entries: [], cursor: '0', more: false })]);
    await expect(api.call('GET /sync')).rejects.toMatchObject({ code: 'off_contract' });
  });

  it('tries a GET again after 503 unavailable, waiting at least retryAfterSeconds, and says it is retrying', async () => {
    const waits: number[] = [];
    const retrying: boolean[] = [];
    const { api, seen } = client(
      [unavailable(2), unavailable(1), json(200, { entries: [], cursor: '0', more: false })],
      waits,
      retrying,
    );
    await api.call('GET /sync');
    expect(seen).toHaveLength(3);
    expect(waits[0]).toBeGreaterThanOrEqual(2000);
    expect(waits[1]).toBeGreaterThanOrEqual(1000);
    expect(waits.every((w) => w <= 30_000)).toBe(true);
    expect(retrying).toEqual([true, false, true, false]);
  });

  it('tries a send carrying a clientMessageId again after 429 rate_limited', async () => {
    const { api, seen } = client([
      json(429, { error: { code: 'rate_limited', message: 'Slow down', retryAfterSeconds: 1 } }),
      json(201, { seq: 3, createdAt: '2026-01-01T00:00:00.000Z' }),
    ]);
    const body = {
      clientMessageId: '0b5a3c4e-0000-4000-8000-000000000009',
      envelopes: [{ userId: conversationId, deviceId: 1, type: 'signal' as const, ciphertext: 'AAAA' }],
    };
    const stored = await api.call('POST /conversations/{conversationId}/messages', { path: { conversationId }, body });
    expect(stored.seq).toBe(3);
    expect(seen.map((s) => s.url)).toEqual([
      `https://api.test/conversations/${conversationId}/messages`,
      `https://api.test/conversations/${conversationId}/messages`,
    ]);
  });

  it('does not repeat a POST that is not idempotent, and gives up after its attempts', async () => {
    const { api, seen } = client([unavailable(0)]);
    await expect(
      api.call('POST /conversations', { body: { kind: 'direct', userId: conversationId } }),
    ).rejects.toMatchObject({
      code: 'unavailable',
      retryAfterSeconds: 0,
    });
    expect(seen).toHaveLength(1);
    const again = client([unavailable(0), unavailable(0), unavailable(0), unavailable(0), unavailable(0)]);
    await expect(again.api.call('GET /sync')).rejects.toMatchObject({ code: 'unavailable' });
    expect(again.seen).toHaveLength(5);
  });

  it('reads a typed device mismatch from a 409', async () => {
    const devices = { missing: [{ userId: conversationId, deviceId: 2 }], extra: [] };
    const { api } = client([json(409, { error: { code: 'devices_changed', message: 'Devices changed', devices } })]);
    const body = { clientMessageId: conversationId, envelopes: [] };
    await expect(
      api.call('POST /conversations/{conversationId}/messages', { path: { conversationId }, body }),
    ).rejects.toMatchObject({ code: 'devices_changed', devices });
  });
});
