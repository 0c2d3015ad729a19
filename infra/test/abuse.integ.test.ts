import { randomUUID } from 'node:crypto';
import type { Conversation } from '@ciphertalk/shared/protocol';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { ApiClient } from './support/api.ts';
import { deviceKeys } from './support/device-keys.ts';
import { envelopesFor, liveUser } from './support/live.ts';
import { directConversation, liveUsersOn } from './support/live-users.ts';
import { closed, openSocket } from './support/stack.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/**
 * Abuse, tried as an attacker through the twin with the production limits (no RATE_LIMIT_MULTIPLIER): each
 * limit is flooded and must hold with 429 / a `rate_limited` error frame carrying a retry time; bad input is a
 * 4xx; sessions that end take their sockets and tickets with them. The real-time limits count in the in-process
 * registry's place here (no Redis); the fault suite runs them on Redis.
 */
const fx = stackOnFreshSchema();

const user = liveUsersOn(fx);
let sql: Client;
beforeAll(async () => {
  sql = new Client({ connectionString: fx.schema.url });
  await sql.connect();
});
afterAll(() => sql?.end());
const direct = directConversation;

const expectLimitedFrame = (answer: Record<string, unknown> | undefined) => {
  expect(answer).toMatchObject({ type: 'error', error: { code: 'rate_limited' } });
  const retry = ((answer?.error ?? {}) as { retryAfterSeconds?: number }).retryAfterSeconds ?? 0;
  expect(retry).toBeGreaterThan(0);
};

/**
 * Sends frames in batches until one is refused (or twice the limit passed): how many were served, and the
 * refusal. A sliding window estimates the previous window's share, so a flood straddling a window boundary
 * may get a few more than `max` through (the margin below); never the twice that a fixed window allows.
 */
async function flood(request: () => Promise<Record<string, unknown>>, max: number, batch = 20) {
  let served = 0;
  for (let sent = 0; sent < 2 * max; sent += batch) {
    const answers = await Promise.all(Array.from({ length: batch }, request));
    served += answers.filter((answer) => answer.type === 'ack').length;
    const refused = answers.find((answer) => answer.type === 'error');
    if (refused) return { served, refused };
  }
  return { served, refused: undefined };
}

const expectServedAbout = (served: number, max: number) => {
  expect(served).toBeGreaterThanOrEqual(max);
  expect(served).toBeLessThanOrEqual(Math.ceil(max * 1.05) + 1);
};

describe('prekey drain', () => {
  it('hands out at most 30 one-time prekeys of a device an hour, whoever floods, and bundles keep coming without one', async () => {
    const victim = await user('pk-victim');
    const keys = await deviceKeys({ preKeys: 100 });
    const registered = await victim.client.post('/devices', keys.body('victim laptop'));
    const victimDevice = (registered.body.device as { deviceId: number }).deviceId;
    // Two outsiders with no shared conversation, 60 claims each.
    const outsiders = await Promise.all([user('pk-out1'), user('pk-out2')]);
    const claimed: (number | null)[] = [];
    for (const outsider of outsiders) {
      await outsider.client.post('/devices', (await deviceKeys({ preKeys: 1 })).body());
      for (let i = 0; i < 60; i++) {
        const answer = await outsider.client.get(`/users/${victim.userId}/devices/${victimDevice}/prekey-bundle`);
        expect(answer.status).toBe(200);
        claimed.push((answer.body.bundle as { preKey: { keyId: number } | null }).preKey?.keyId ?? null);
      }
    }
    const handedOut = claimed.filter((keyId) => keyId !== null);
    expect(handedOut).toHaveLength(30);
    expect(new Set(handedOut).size).toBe(30);
    const left = await victim.client.get('/devices');
    expect((left.body.devices as { preKeysRemaining: number }[])[0]?.preKeysRemaining).toBe(70);
  });

  it('counts every bundle of a multi-device claim against the claimer: 1,000 an hour, then 429 with Retry-After', async () => {
    const target = await liveUser(fx.stack.restUrl, fx.stack.wsUrl, 'pk-multi');
    // Ten devices: ten sessions, one device each.
    for (let i = 0; i < 10; i++) {
      const client = i === 0 ? target.client : new ApiClient(fx.stack.restUrl);
      if (i > 0) await client.post('/auth/login', { email: target.email, password: target.password });
      expect((await client.post('/devices', (await deviceKeys({ preKeys: 1 })).body(`d${i}`))).status).toBe(201);
    }
    const claimer = await user('pk-claimer');
    await claimer.client.post('/devices', (await deviceKeys({ preKeys: 1 })).body());
    for (let i = 0; i < 100; i++) {
      const answer = await claimer.client.get(`/users/${target.userId}/prekey-bundles`);
      expect(answer.status, `claim ${i + 1}`).toBe(200);
      expect(answer.body.bundles).toHaveLength(10);
    }
    const limited = await claimer.client.get(`/users/${target.userId}/prekey-bundles`);
    expect(limited.status).toBe(429);
    expect(limited.body.error?.code).toBe('rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((limited.body.error as { retryAfterSeconds?: number }).retryAfterSeconds).toBeGreaterThan(0);
  }, 60_000);
});

describe('real-time and REST flood limits', () => {
  it('limits message sends per device to 120 a minute, over the WebSocket and REST alike', async () => {
    const alice = await user('flood-alice');
    const bob = await user('flood-bob');
    const [a1, b1] = [await alice.device(), await bob.device()];
    const id = await direct(a1, bob);
    const send = () =>
      a1.request({
        action: 'message.send',
        conversationId: id,
        message: { clientMessageId: randomUUID(), envelopes: envelopesFor([b1.address]) },
      });
    const { served, refused } = await flood(send, 120);
    expectServedAbout(served, 120);
    expectLimitedFrame(refused);
    const rest = await a1.client.post(`/conversations/${id}/messages`, {
      clientMessageId: randomUUID(),
      envelopes: envelopesFor([b1.address]),
    });
    expect(rest.status).toBe(429);
    expect(Number(rest.headers.get('retry-after'))).toBeGreaterThan(0);
    const [{ n } = { n: '0' }] = (
      await sql.query<{ n: string }>(
        `SELECT count(*) AS n FROM messages WHERE conversation_id = $1 AND type = 'message'`,
        [id],
      )
    ).rows;
    expect(Number(n)).toBe(served);
  }, 60_000);

  it('limits call signals and read receipts per device to 300 a minute', async () => {
    const carol = await user('flood-carol');
    const dan = await user('flood-dan');
    const [c1, d1] = [await carol.device(), await dan.device()];
    const id = await direct(c1, dan);
    const signal = () =>
      c1.request({
        action: 'call.signal',
        conversationId: id,
        callId: randomUUID(),
        envelopes: envelopesFor([d1.address]),
      });
    const receipt = () => c1.request({ action: 'receipt.read', conversationId: id, seq: 1 });
    for (const request of [signal, receipt]) {
      const { served, refused } = await flood(request, 300, 30);
      expectServedAbout(served, 300);
      expectLimitedFrame(refused);
    }
  }, 60_000);

  it('limits group creation to 30 an hour and group changes to 300 an hour per user', async () => {
    const owner = await user('groups-owner');
    const member = await user('groups-member');
    const create = () => owner.client.post('/conversations', { kind: 'group', name: 'G', memberIds: [member.userId] });
    const created: string[] = [];
    for (let i = 0; i < 30; i++) {
      const answer = await create();
      expect(answer.status).toBe(201);
      created.push((answer.body.conversation as Conversation).id);
    }
    const limited = await create();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    const groupId = created[0] as string;
    for (let i = 0; i < 300; i++) {
      const answer = await owner.client.patch(`/conversations/${groupId}`, { name: `G${i}` });
      expect(answer.status, `change ${i + 1}`).toBe(200);
    }
    const tooMany = await owner.client.patch(`/conversations/${groupId}`, { name: 'one more' });
    expect(tooMany.status).toBe(429);
    const remove = await owner.client.delete(`/conversations/${groupId}/members/${member.userId}`);
    expect(remove.status).toBe(429);
  }, 90_000);

  it('caps the WebSockets one user holds open at 20: the next is refused with 429', async () => {
    const eve = await user('conns-eve');
    const first = await eve.device();
    const sockets = [first.socket];
    for (let i = 1; i < 20; i++) {
      const ticket = await first.client.post('/auth/ws-ticket');
      sockets.push(await openSocket(`${fx.stack.wsUrl}?ticket=${ticket.body.ticket as string}`));
    }
    const ticket = await first.client.post('/auth/ws-ticket');
    await expect(openSocket(`${fx.stack.wsUrl}?ticket=${ticket.body.ticket as string}`)).rejects.toThrow(
      'refused with 429',
    );
    // Closing one makes room again, once its $disconnect has run.
    const last = sockets.pop();
    last?.close();
    if (last) await closed(last);
    let reopened: WebSocket | null = null;
    // Few tickets to spare (30 a minute): wait longer each time.
    for (let i = 0; i < 6 && !reopened; i++) {
      const again = await first.client.post('/auth/ws-ticket');
      reopened = await openSocket(`${fx.stack.wsUrl}?ticket=${again.body.ticket as string}`).catch((error: Error) => {
        if (error.message !== 'refused with 429') throw error;
        return new Promise<null>((resolve) => setTimeout(() => resolve(null), 100 * 2 ** i));
      });
    }
    expect(reopened).not.toBeNull();
    sockets.push(reopened as WebSocket);
    await Promise.all(
      sockets.slice(1).map(async (socket) => {
        const done = closed(socket);
        socket.close();
        await done;
      }),
    );
  }, 60_000);
});

describe('bad input', () => {
  it('answers U+0000 in a display name, search query, device name, group name or email 400, never 500', async () => {
    const anon = new ApiClient(fx.stack.restUrl);
    const register = await anon.post('/auth/register', {
      email: 'nul@example.test',
      password: 'a long enough password',
      displayName: 'Ada\u0000',
    });
    expect(register.status).toBe(400);
    expect(register.body.error?.code).toBe('validation_failed');
    const frank = await user('nul-frank');
    const answers = [
      await frank.client.patch('/me', { displayName: 'x\u0000y' }),
      await frank.client.get(`/users?query=${encodeURIComponent('abc\u0000')}`),
      await frank.client.post('/devices', (await deviceKeys()).body('phone\u0000')),
      await frank.client.post('/conversations', { kind: 'group', name: 'g\u0000', memberIds: [] }),
      await anon.post('/auth/login', { email: 'a\u0000@example.test', password: 'whatever' }),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 400, 400]);
  });

  it('answers a ciphertext one byte over 64 KiB 400 (the database CHECK is never reached)', async () => {
    const gina = await user('big-gina');
    const hank = await user('big-hank');
    const [g1, h1] = [await gina.device(), await hank.device()];
    const id = await direct(g1, hank);
    const send = (bytes: number) =>
      g1.client.post(`/conversations/${id}/messages`, {
        clientMessageId: randomUUID(),
        envelopes: [{ ...h1.address, type: 'signal', ciphertext: Buffer.alloc(bytes, 9).toString('base64') }],
      });
    expect((await send(65_538)).status).toBe(400);
    expect((await send(65_537)).status).toBe(400);
    expect((await send(65_536)).status).toBe(201);
  });

  it('sends X-Content-Type-Options: nosniff on every API answer: handlers and the gateway’s own', async () => {
    const anon = new ApiClient(fx.stack.restUrl);
    const answers = [
      await anon.get('/health'),
      await anon.post('/auth/login', { email: 'x@example.test', password: 'nope' }),
      await anon.get('/no/such/route'),
      await anon.get('/me'),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([200, 401, 403, 401]);
    for (const answer of answers) expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

describe('sessions that end everywhere', () => {
  it('refresh-token reuse closes the session’s sockets and voids its unspent tickets', async () => {
    const ivy = await user('reuse-ivy');
    const i1 = await ivy.device();
    const spare = await i1.client.post('/auth/ws-ticket');
    const stolen = i1.client.refreshCookie;
    expect((await i1.client.post('/auth/refresh')).status).toBe(200);
    // The thief presents the used token: the whole session ends, its socket too.
    const socketClosed = closed(i1.socket);
    const thief = new ApiClient(fx.stack.restUrl);
    thief.refreshCookie = stolen;
    expect((await thief.post('/auth/refresh')).status).toBe(401);
    await socketClosed;
    await expect(openSocket(`${fx.stack.wsUrl}?ticket=${spare.body.ticket as string}`)).rejects.toThrow(
      'refused with 401',
    );
  });

  it('stops serving a socket whose session ended even when nothing hung up on it (within seconds)', async () => {
    const jack = await user('ended-jack');
    const kim = await user('ended-kim');
    const [j1, k1] = [await jack.device(), await kim.device()];
    const id = await direct(j1, kim);
    expect(await j1.request({ action: 'typing', conversationId: id, state: 'start' })).toMatchObject({ type: 'ack' });
    await k1.waitFor((frame) => frame.type === 'typing');
    // Ended behind the API's back (an administrator, a missed hang-up): no disconnect reaches the socket.
    await sql.query(`UPDATE sessions SET revoked_at = now() WHERE user_id = $1`, [jack.userId]);
    const socketClosed = closed(j1.socket);
    let answer: Record<string, unknown> = {};
    for (let i = 0; i < 200 && answer.type !== 'error'; i++) {
      answer = await j1.request({ action: 'presence.heartbeat' });
      if (answer.type === 'ack') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(answer).toMatchObject({ type: 'error', error: { code: 'unauthorized' } });
    await socketClosed;
  });
});
