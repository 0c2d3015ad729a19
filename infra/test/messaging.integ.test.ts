import { randomUUID } from 'node:crypto';
import { createPostgresDb } from '@ciphertalk/functions/adapters/postgres.ts';
import { sweepRetention } from '@ciphertalk/functions/domain/retention.ts';
import type { Conversation } from '@ciphertalk/shared/protocol';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopesFor, fakeCiphertext, type LiveDevice, quietFor } from './support/live.ts';
import { directConversation, liveUsersOn } from './support/live-users.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/**
 * Real-time messaging through the twin (REST, WebSocket, @connections) with the real handlers on real
 * PostgreSQL and Redis (logical db 6, flushed after): several users with several devices each.
 */
const fx = stackOnFreshSchema({ redisDb: 6, env: { RATE_LIMIT_MULTIPLIER: '100' } });

let sql: Client;
beforeAll(async () => {
  sql = new Client({ connectionString: fx.schema.url });
  await sql.connect();
});
afterAll(() => sql?.end());

const user = liveUsersOn(fx);

const counts = async () =>
  (
    await sql.query<{ m: string; d: string }>(
      'SELECT (SELECT count(*) FROM messages) AS m, (SELECT count(*) FROM deliveries) AS d',
    )
  ).rows[0];

const direct = directConversation;

async function group(owner: LiveDevice, memberIds: string[]): Promise<string> {
  const answer = await owner.client.post('/conversations', { kind: 'group', name: 'Team', memberIds });
  return (answer.body.conversation as Conversation).id;
}

/** `message.send` of a pairwise message to these devices, answered by its ack (or error) frame. */
const sendPairwise = (from: LiveDevice, conversationId: string, to: readonly LiveDevice[]) =>
  from.request({
    action: 'message.send',
    conversationId,
    message: { clientMessageId: randomUUID(), envelopes: envelopesFor(to.map((device) => device.address)) },
  });

const entryOf = (conversationId: string, seq: number) => (frame: Record<string, unknown>) =>
  frame.type === 'entry' &&
  frame.conversationId === conversationId &&
  (frame.entry as { seq: number } | undefined)?.seq === seq;

/** Drains a device's inbox over REST: every entry, acknowledged. */
async function syncAll(device: LiveDevice) {
  const entries: { conversationId: string; entry: Record<string, unknown> }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await device.client.get(`/sync?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    entries.push(...(page.body.entries as typeof entries));
    cursor = page.body.cursor as string;
    if (!page.body.more) break;
  }
  return entries;
}

describe('message.send over the WebSocket', () => {
  it('stores first, acks the sender with the seq, and gives each other device its own envelope, live', async () => {
    const alice = await user('m-alice');
    const bob = await user('m-bob');
    const [a1, a2, b1, b2] = [await alice.device(), await alice.device(), await bob.device(), await bob.device()];
    const id = await direct(a1, bob);
    const envelopes = envelopesFor([a2.address, b1.address, b2.address]);
    const clientMessageId = randomUUID();

    const ack = await a1.request({
      action: 'message.send',
      conversationId: id,
      message: { clientMessageId, envelopes },
    });

    expect(ack).toMatchObject({ type: 'ack', seq: 2, created: true });
    const { rows } = await sql.query('SELECT type, sender_id FROM messages WHERE conversation_id = $1 AND seq = 2', [
      id,
    ]);
    expect(rows).toEqual([{ type: 'message', sender_id: alice.userId }]);
    for (const [device, envelope] of [
      [a2, envelopes[0]],
      [b1, envelopes[1]],
      [b2, envelopes[2]],
    ] as const) {
      const frame = await device.waitFor(entryOf(id, 2));
      expect(frame.entry).toMatchObject({
        type: 'message',
        senderId: alice.userId,
        senderDeviceId: a1.deviceId,
        envelope: { type: 'signal', ciphertext: envelope?.ciphertext },
      });
    }
    await quietFor(200);
    expect(a1.ofType('entry').filter((frame) => (frame.entry as { seq: number }).seq === 2)).toEqual([]);
  });

  it('is idempotent: a resend of the same client message id answers the stored seq and delivers nothing', async () => {
    const alice = await user('i-alice');
    const bob = await user('i-bob');
    const [a1, b1] = [await alice.device(), await bob.device()];
    const id = await direct(a1, bob);
    const message = { clientMessageId: randomUUID(), envelopes: envelopesFor([b1.address]) };
    const first = await a1.request({ action: 'message.send', conversationId: id, message });
    await b1.waitFor(entryOf(id, first.seq as number));
    const before = await counts();

    const again = await a1.request({ action: 'message.send', conversationId: id, message });
    const viaRest = await a1.client.post(`/conversations/${id}/messages`, message);

    expect(again).toMatchObject({ type: 'ack', seq: first.seq, created: false, createdAt: first.createdAt });
    expect(viaRest.status).toBe(200);
    expect(viaRest.body).toEqual({ seq: first.seq, createdAt: first.createdAt });
    expect(await counts()).toEqual(before);
    await quietFor(300);
    expect(b1.ofType('entry').length).toBe(2); // the `created` event and the message, once
  });

  it('refuses envelopes that miss a device or name a stranger (error frame naming them), storing nothing', async () => {
    const alice = await user('d-alice');
    const bob = await user('d-bob');
    const eve = await user('d-eve');
    const [a1, b1, e1] = [await alice.device(), await bob.device(), await eve.device()];
    const b2 = await bob.device();
    const id = await direct(a1, bob);
    const before = await counts();

    const missing = await sendPairwise(a1, id, [b1]);
    const extra = await a1.request({
      action: 'message.send',
      conversationId: id,
      message: { clientMessageId: randomUUID(), envelopes: envelopesFor([b1.address, b2.address, e1.address]) },
    });

    expect(missing).toMatchObject({
      type: 'error',
      error: { code: 'devices_changed', issues: [{ path: `${bob.userId}/${b2.deviceId}`, message: 'missing' }] },
    });
    expect(extra).toMatchObject({
      type: 'error',
      error: { code: 'devices_changed', issues: [{ path: `${eve.userId}/${e1.deviceId}`, message: 'extra' }] },
    });
    expect(await counts()).toEqual(before);
    await quietFor(200);
    expect(e1.ofType('entry')).toEqual([]);
  });
});

describe('groups', () => {
  it('delivers one sender-key ciphertext to every device; a removed member learns of it and gets nothing after', async () => {
    const carol = await user('g-carol');
    const dave = await user('g-dave');
    const erin = await user('g-erin');
    const [c1, d1, e1] = [await carol.device(), await dave.device(), await erin.device()];
    const id = await group(c1, [dave.userId, erin.userId]);
    const senderKeyCiphertext = fakeCiphertext();

    const ack = await c1.request({
      action: 'message.send',
      conversationId: id,
      message: { clientMessageId: randomUUID(), senderKeyCiphertext, recipients: [d1.address, e1.address] },
    });

    for (const device of [d1, e1]) {
      const frame = await device.waitFor(entryOf(id, ack.seq as number));
      expect((frame.entry as { envelope: unknown }).envelope).toEqual({
        type: 'sender_key',
        ciphertext: senderKeyCiphertext,
      });
    }

    const removal = await c1.client.delete(`/conversations/${id}/members/${erin.userId}`);
    expect(removal.status).toBe(204);
    const removed = await e1.waitFor(
      (frame) =>
        frame.type === 'entry' &&
        (frame.entry as { type: string }).type === 'system' &&
        frame.conversationId === id &&
        (frame.entry as { event: { event: string } }).event.event === 'member_removed',
    );
    expect((removed.entry as { event: unknown }).event).toMatchObject({ userId: erin.userId });
    await d1.waitFor(entryOf(id, (removed.entry as { seq: number }).seq));

    const stale = await c1.request({
      action: 'message.send',
      conversationId: id,
      message: { clientMessageId: randomUUID(), senderKeyCiphertext, recipients: [d1.address, e1.address] },
    });
    expect(stale).toMatchObject({ type: 'error', error: { code: 'devices_changed' } });
    const after = await c1.request({
      action: 'message.send',
      conversationId: id,
      message: { clientMessageId: randomUUID(), senderKeyCiphertext: fakeCiphertext(), recipients: [d1.address] },
    });
    await d1.waitFor(entryOf(id, after.seq as number));
    await quietFor(200);
    expect(e1.received.filter(entryOf(id, after.seq as number))).toEqual([]);
    expect((await e1.client.get(`/conversations/${id}/messages`)).status).toBe(404);
    const erinsInbox = (await e1.client.get('/sync')).body.entries as { entry: { seq: number } }[];
    expect(erinsInbox.map((item) => item.entry.seq)).not.toContain(after.seq);
  });

  it('membership changes reach every member’s devices in order, as entries', async () => {
    const owner = await user('o-owner');
    const member = await user('o-member');
    const [o1, m1, m2] = [await owner.device(), await member.device(), await member.device()];
    const newcomer = await user('o-new');
    const n1 = await newcomer.device();
    const id = await group(o1, [member.userId]);
    await o1.client.post(`/conversations/${id}/members`, { userIds: [newcomer.userId] });
    await o1.client.patch(`/conversations/${id}`, { name: 'Renamed' });

    for (const device of [m1, m2]) {
      await device.waitFor(entryOf(id, 3));
      const seqs = device
        .ofType('entry')
        .filter((f) => f.conversationId === id)
        .map((f) => (f.entry as { seq: number }).seq);
      expect(seqs).toEqual([1, 2, 3]);
    }
    // The newcomer was added by event 2: it gets that one and what follows, not what came before.
    await n1.waitFor(entryOf(id, 3));
    expect(n1.ofType('entry').map((f) => (f.entry as { seq: number }).seq)).toEqual([2, 3]);
  });
});

describe('offline catch-up with GET /sync', () => {
  it('returns what the device has not acknowledged, in order, across pages, exactly once', async () => {
    const alice = await user('s-alice');
    const bob = await user('s-bob');
    const a1 = await alice.device();
    const b1 = await bob.device();
    await b1.close(); // Bob is offline
    const id = await direct(a1, bob);
    const sent: { seq: number; ciphertext: string }[] = [];
    for (let i = 0; i < 5; i += 1) {
      const envelopes = envelopesFor([b1.address]);
      const answer = await a1.client.post(`/conversations/${id}/messages`, {
        clientMessageId: randomUUID(),
        envelopes,
      });
      expect(answer.status).toBe(201);
      sent.push({ seq: answer.body.seq as number, ciphertext: envelopes[0]?.ciphertext as string });
    }

    const first = await syncAll(b1);
    // Reading is not acknowledging: a device that crashed before acking gets it all again.
    const again = await syncAll(b1);

    expect(first.map((item) => item.entry.seq)).toEqual([1, ...sent.map((s) => s.seq)]);
    expect(first.slice(1).map((item) => (item.entry.envelope as { ciphertext: string }).ciphertext)).toEqual(
      sent.map((s) => s.ciphertext),
    );
    expect(again).toEqual(first);

    const ack = await b1.client.post('/sync/ack', {
      deliveries: first.map((item) => ({ conversationId: item.conversationId, seq: item.entry.seq })),
    });
    expect(ack.body).toEqual({ acknowledged: 6 });
    expect(await syncAll(b1)).toEqual([]);
    // The server keeps no ciphertext a device has received.
    const { rows } = await sql.query(
      'SELECT count(*)::int AS n FROM deliveries WHERE user_id = $1 AND (ciphertext IS NOT NULL OR acked_at IS NULL)',
      [bob.userId],
    );
    expect(rows[0]).toEqual({ n: 0 });
    const timeline = await b1.client.get(`/conversations/${id}/messages`);
    expect((timeline.body.messages as { envelope?: unknown }[]).slice(1).map((m) => m.envelope)).toEqual(
      sent.map(() => null),
    );
    // Another device's acknowledgement of the same seqs changes nothing for Bob.
    const replay = await a1.client.post('/sync/ack', { deliveries: [{ conversationId: id, seq: sent[0]?.seq }] });
    expect(replay.body).toEqual({ acknowledged: 0 });
  });

  it('message.ack acknowledges live deliveries, and the sender gets a delivered receipt', async () => {
    const alice = await user('r-alice');
    const bob = await user('r-bob');
    const [a1, b1] = [await alice.device(), await bob.device()];
    const id = await direct(a1, bob);
    const sent = await sendPairwise(a1, id, [b1]);
    await b1.waitFor(entryOf(id, sent.seq as number));

    const ack = await b1.request({ action: 'message.ack', deliveries: [{ conversationId: id, seq: sent.seq }] });

    expect(ack).toMatchObject({ type: 'ack' });
    const receipt = await a1.waitFor((frame) => frame.type === 'receipt' && frame.status === 'delivered');
    expect(receipt).toMatchObject({ conversationId: id, userId: bob.userId, seq: sent.seq });
    const inbox = (await b1.client.get('/sync')).body.entries as { entry: { seq: number } }[];
    expect(inbox.map((item) => item.entry.seq)).toEqual([1]); // only the unacknowledged `created` event
  });
});

describe('receipts, typing, presence, call signals', () => {
  it('receipt.read moves the marker and tells the other members', async () => {
    const alice = await user('rr-alice');
    const bob = await user('rr-bob');
    const [a1, b1] = [await alice.device(), await bob.device()];
    const id = await direct(a1, bob);
    const sent = await sendPairwise(a1, id, [b1]);
    expect(((await b1.client.get(`/conversations/${id}`)).body.conversation as Conversation).unreadCount).toBe(1);

    expect(await b1.request({ action: 'receipt.read', conversationId: id, seq: sent.seq })).toMatchObject({
      type: 'ack',
    });

    const receipt = await a1.waitFor((frame) => frame.type === 'receipt' && frame.status === 'read');
    expect(receipt).toMatchObject({ conversationId: id, userId: bob.userId, seq: sent.seq });
    const after = (await a1.client.get(`/conversations/${id}`)).body.conversation as Conversation;
    expect(((await b1.client.get(`/conversations/${id}`)).body.conversation as Conversation).unreadCount).toBe(0);
    // A sender who was offline when the receipt came reads it from the member list.
    expect(after.members.find((m) => m.userId === bob.userId)?.lastReadSeq).toBe(sent.seq);
  });

  it('relays typing to the other members only, never stores it, and limits its rate', async () => {
    const alice = await user('t-alice');
    const bob = await user('t-bob');
    const eve = await user('t-eve');
    const [a1, b1, e1] = [await alice.device(), await bob.device(), await eve.device()];
    const id = await direct(a1, bob);
    const before = await counts();

    expect(await a1.request({ action: 'typing', conversationId: id, state: 'start' })).toMatchObject({ type: 'ack' });

    expect(await b1.waitFor((frame) => frame.type === 'typing')).toEqual({
      type: 'typing',
      conversationId: id,
      userId: alice.userId,
      state: 'start',
    });
    let limited: Record<string, unknown> | undefined;
    for (let i = 0; i < 12 && !limited; i += 1) {
      const answer = await a1.request({ action: 'typing', conversationId: id, state: i % 2 ? 'start' : 'stop' });
      if (answer.type === 'error') limited = answer;
    }
    expect(limited).toMatchObject({ error: { code: 'rate_limited' } });
    const intruder = await e1.request({ action: 'typing', conversationId: id, state: 'start' });
    expect(intruder).toMatchObject({ type: 'error', error: { code: 'not_found', message: 'No such conversation' } });
    expect(await counts()).toEqual(before);
    await quietFor(200);
    expect(e1.ofType('typing')).toEqual([]);
    expect(a1.ofType('typing')).toEqual([]);
  });

  it('shows presence to co-members only: online on a heartbeat, offline with last seen on disconnect', async () => {
    const alice = await user('p-alice');
    const bob = await user('p-bob');
    const eve = await user('p-eve');
    const [a1, b1, e1] = [await alice.device(), await bob.device(), await eve.device()];
    const id = await direct(a1, bob);

    expect(await a1.request({ action: 'presence.heartbeat' })).toMatchObject({ type: 'ack' });

    expect(await b1.waitFor((frame) => frame.type === 'presence' && frame.userId === alice.userId)).toMatchObject({
      status: 'online',
    });
    const seen = await b1.client.get(`/conversations/${id}/presence`);
    expect(seen.status).toBe(200);
    expect(seen.body.presence).toEqual(
      expect.arrayContaining([expect.objectContaining({ userId: alice.userId, status: 'online' })]),
    );
    const snooping = await e1.client.get(`/conversations/${id}/presence`);
    const unknown = await e1.client.get(`/conversations/${randomUUID()}/presence`);
    expect(snooping.status).toBe(404);
    expect(snooping.body).toEqual(unknown.body);

    await a1.close();
    const offline = await b1.waitFor(
      (frame) => frame.type === 'presence' && frame.userId === alice.userId && frame.status === 'offline',
    );
    expect(Date.parse(offline.lastSeenAt as string)).toBeGreaterThan(0);
    await quietFor(200);
    expect(e1.ofType('presence')).toEqual([]);
  });

  it('relays call signals to the addressed device only; nobody else hears of the call', async () => {
    const alice = await user('c-alice');
    const bob = await user('c-bob');
    const eve = await user('c-eve');
    const [a1, b1, b2, e1] = [await alice.device(), await bob.device(), await bob.device(), await eve.device()];
    const id = await direct(a1, bob);
    const callId = randomUUID();
    const [offer] = envelopesFor([b1.address]);

    expect(await a1.request({ action: 'call.signal', conversationId: id, callId, envelopes: [offer] })).toMatchObject({
      type: 'ack',
    });

    expect(await b1.waitFor((frame) => frame.type === 'call.signal')).toEqual({
      type: 'call.signal',
      conversationId: id,
      callId,
      fromUserId: alice.userId,
      fromDeviceId: a1.deviceId,
      envelope: { type: offer?.type, ciphertext: offer?.ciphertext },
    });
    const toStranger = await a1.request({
      action: 'call.signal',
      conversationId: id,
      callId,
      envelopes: envelopesFor([e1.address]),
    });
    expect(toStranger).toMatchObject({ type: 'error', error: { code: 'validation_failed' } });
    const fromStranger = await e1.request({
      action: 'call.signal',
      conversationId: id,
      callId,
      envelopes: envelopesFor([b1.address]),
    });
    expect(fromStranger).toMatchObject({ type: 'error', error: { code: 'not_found' } });
    await quietFor(200);
    expect(b2.ofType('call.signal')).toEqual([]);
    expect(e1.ofType('call.signal')).toEqual([]);
    expect(b1.ofType('call.signal').length).toBe(1);
  });
});

describe('stale connections and bad frames', () => {
  it('removes a connection API Gateway reports gone, not the sender’s, and still delivers to the live ones', async () => {
    const alice = await user('x-alice');
    const bob = await user('x-bob');
    const [a1, b1] = [await alice.device(), await bob.device()];
    const id = await direct(a1, bob);
    // A record left behind by a connection that died without $disconnect.
    const ghost = { connectionId: 'ghostConnId=', userId: bob.userId, deviceId: b1.deviceId, connectedAt: 1 };
    await fx.redis.set(`conn:${ghost.connectionId}`, JSON.stringify(ghost));
    await fx.redis.hset(`user:${bob.userId}:conns`, ghost.connectionId, JSON.stringify(ghost));

    const sent = await sendPairwise(a1, id, [b1]);

    await b1.waitFor(entryOf(id, sent.seq as number));
    await quietFor(100);
    expect(await fx.redis.hexists(`user:${bob.userId}:conns`, ghost.connectionId)).toBe(0);
    expect(await fx.redis.exists(`conn:${ghost.connectionId}`)).toBe(0);
    expect(Object.keys(await fx.redis.hgetall(`user:${bob.userId}:conns`))).toHaveLength(1);
    expect(Object.keys(await fx.redis.hgetall(`user:${alice.userId}:conns`))).toHaveLength(1);
  });

  it('answers bad frames with error frames carrying their id, and stores nothing', async () => {
    const alice = await user('b-alice');
    const bob = await user('b-bob');
    const eve = await user('b-eve');
    const [a1, b1, e1] = [await alice.device(), await bob.device(), await eve.device()];
    const id = await direct(a1, bob);
    const before = await counts();
    const message = { clientMessageId: randomUUID(), envelopes: envelopesFor([b1.address]) };

    const answers = {
      unknownAction: await a1.request({ action: 'message.burn', conversationId: id }),
      wrongTypes: await a1.request({ action: 'message.send', conversationId: 42, message }),
      notUuid: await a1.request({ action: 'message.send', conversationId: 'abc', message }),
      noEnvelopes: await a1.request({
        action: 'message.send',
        conversationId: id,
        message: { clientMessageId: randomUUID() },
      }),
      notBase64: await a1.request({
        action: 'message.send',
        conversationId: id,
        message: { ...message, envelopes: [{ ...b1.address, type: 'signal', ciphertext: 'not base64!' }] },
      }),
      extraField: await a1.request({ action: 'message.send', conversationId: id, message, admin: true }),
      badAck: await a1.request({ action: 'message.ack', deliveries: [] }),
      nonMember: await e1.request({ action: 'message.send', conversationId: id, message }),
      unknownConversation: await e1.request({ action: 'message.send', conversationId: randomUUID(), message }),
    };

    expect(answers.unknownAction).toMatchObject({ type: 'error', error: { code: 'unknown_action' } });
    for (const key of ['wrongTypes', 'notUuid', 'noEnvelopes', 'notBase64', 'extraField', 'badAck'] as const) {
      expect(answers[key], key).toMatchObject({ type: 'error', error: { code: 'validation_failed' } });
    }
    // Over the 64 KiB ciphertext limit, in a 90 KB message sent as three 30 KB frames (API Gateway's
    // frame limit is 32 KB, its message limit 128 KB): an error frame, not a closed socket.
    const big = JSON.stringify({
      action: 'message.send',
      id: 'too-big',
      conversationId: id,
      message: { ...message, envelopes: [{ ...b1.address, type: 'signal', ciphertext: 'A'.repeat(90_000) }] },
    });
    const chunks = big.match(/[\s\S]{1,30000}/g) ?? [];
    chunks.forEach((chunk, i) => {
      a1.socket.send(chunk, { fin: i === chunks.length - 1 });
    });
    expect(await a1.waitFor((frame) => frame.id === 'too-big')).toMatchObject({
      type: 'error',
      error: { code: 'validation_failed' },
    });
    const tooBig = await a1.client.post(`/conversations/${id}/messages`, {
      ...message,
      envelopes: [{ ...b1.address, type: 'signal', ciphertext: 'A'.repeat(90_000) }],
    });
    expect(tooBig.status).toBe(400);
    expect(answers.nonMember).toEqual({ ...answers.unknownConversation, id: answers.nonMember.id });
    expect(answers.nonMember).toMatchObject({ error: { code: 'not_found', message: 'No such conversation' } });
    expect(await counts()).toEqual(before);
    await quietFor(200);
    expect(b1.ofType('entry').length).toBe(1); // the `created` event only
  });
});

describe('retention', () => {
  it('keeps ciphertext only while a device may need it: sweeps expired, revoked and fully acknowledged', async () => {
    const alice = await user('rt-alice');
    const bob = await user('rt-bob');
    const carol = await user('rt-carol');
    const [a1, b1, c1] = [await alice.device(), await bob.device(), await carol.device()];
    const old = await direct(a1, bob);
    const team = await group(a1, [bob.userId, carol.userId]);
    const envelopes = envelopesFor([b1.address]);
    const stale = await a1.client.post(`/conversations/${old}/messages`, { clientMessageId: randomUUID(), envelopes });
    const fresh = await a1.client.post(`/conversations/${old}/messages`, {
      clientMessageId: randomUUID(),
      envelopes: envelopesFor([b1.address]),
    });
    const senderKey = await a1.client.post(`/conversations/${team}/messages`, {
      clientMessageId: randomUUID(),
      senderKeyCiphertext: fakeCiphertext(),
      recipients: [b1.address, c1.address],
    });
    await sql.query(
      `UPDATE messages SET created_at = now() - interval '31 days' WHERE conversation_id = $1 AND seq = $2`,
      [old, stale.body.seq],
    );
    // Bob and Carol both acknowledge the group message: its one ciphertext is needed no more.
    for (const device of [b1, c1]) {
      await device.client.post('/sync/ack', { deliveries: [{ conversationId: team, seq: senderKey.body.seq }] });
    }
    const db = createPostgresDb(fx.schema.url, { max: 1 });
    try {
      const swept = await sweepRetention(db, new Date(), 30);

      expect(swept).toMatchObject({ expiredDeliveries: 1, senderKeyCiphertexts: 1 });
      const pending = (await syncAll(b1)).map((item) => item.entry.seq);
      expect(pending).toContain(fresh.body.seq);
      expect(pending).not.toContain(stale.body.seq);
      const { rows } = await sql.query(
        'SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1 AND sender_key_ciphertext IS NOT NULL',
        [team],
      );
      expect(rows[0]).toEqual({ n: 0 });
      // The timeline keeps the rows (who, when), without content.
      const timeline = (await b1.client.get(`/conversations/${old}/messages`)).body.messages as { seq: number }[];
      expect(timeline.map((m) => m.seq)).toContain(stale.body.seq);
      // A second sweep finds nothing more.
      expect(await sweepRetention(db, new Date(), 30)).toEqual({
        expiredDeliveries: 0,
        revokedDeliveries: 0,
        senderKeyCiphertexts: 0,
      });
    } finally {
      await db.close();
    }
  });
});
