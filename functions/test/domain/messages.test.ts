/**
 * The send use case and the inbox on PGlite, with the in-process registry and a recording @connections API:
 * store, then ack and fan out, then report; retries are idempotent; a device mismatch is a typed 409.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FanoutResult } from '#domain/fanout.ts';
import {
  acknowledge,
  DevicesChangedError,
  type MessagingDeps,
  readInbox,
  readTimeline,
  sendMessage,
} from '#domain/messages.ts';
import { pgliteWorld, type World } from '../support/messaging.ts';

const B64 = Buffer.from('ciphertext').toString('base64');

const world = pgliteWorld();
let w: World;
let alice: string;
let bob: string;
let conversationId: string;

beforeAll(async () => {
  w = world();
  alice = await w.user('Alice');
  bob = await w.user('Bob');
  await w.device(alice, 1);
  await w.device(bob, 1);
  await w.device(bob, 2);
  conversationId = await w.conversation('direct', [alice, bob]);
});

const envelopes = (devices: [string, number][]) =>
  devices.map(([userId, deviceId]) => ({ userId, deviceId, type: 'signal' as const, ciphertext: B64 }));

/**
 * Alice's device 1 sends to Bob's devices (or `to`), recording the sender's acks and the fan-out reports;
 * `realtime` replaces the real-time ports.
 */
async function aliceSends(
  options: { to?: [string, number][]; clientMessageId?: string; realtime?: MessagingDeps['realtime'] } = {},
) {
  const reports: (FanoutResult | { error: unknown })[] = [];
  const acks: number[] = [];
  const deps = { ...w.deps, ...(options.realtime ? { realtime: options.realtime } : {}) };
  const request = {
    clientMessageId: options.clientMessageId ?? randomUUID(),
    envelopes: envelopes(
      options.to ?? [
        [bob, 1],
        [bob, 2],
      ],
    ),
  };
  const stored = await sendMessage(
    { ...deps, report: (outcome) => reports.push(outcome) },
    { userId: alice, deviceId: 1 },
    conversationId,
    request,
    async (s) => {
      acks.push(s.seq);
    },
  );
  return { stored, reports, acks };
}

describe('sendMessage', () => {
  it('stores, then acks and fans out to each device its own envelope, then reports', async () => {
    const bob1 = await w.connect(bob, 1);
    const bob2 = await w.connect(bob, 2);
    const mine = await w.connect(alice, 1);
    const { stored, acks, reports } = await aliceSends();
    expect(stored).toMatchObject({ created: true, seq: 1 });
    expect(acks).toEqual([1]);
    expect(w.connections.to(bob1)).toMatchObject([
      { type: 'entry', conversationId, entry: { seq: 1, senderId: alice } },
    ]);
    expect(w.connections.to(bob2)).toHaveLength(1);
    expect(w.connections.to(mine)).toEqual([]); // the sending device has the plaintext
    expect(reports).toEqual([{ sent: 2, gone: 0, failed: 0, unreached: [] }]);
    const inbox = await readInbox(w.deps, { userId: bob, deviceId: 2 }, { limit: 10 });
    expect(inbox.entries.map((e) => e.entry.seq)).toEqual([1]);
  });

  it('acks a retry with the stored seq and delivers nothing twice', async () => {
    const clientMessageId = randomUUID();
    const first = await aliceSends({ clientMessageId });
    const posts = w.connections.posts.length;
    const again = await aliceSends({ clientMessageId });
    expect(again.stored).toMatchObject({ seq: first.stored.seq, created: false });
    expect(again.acks).toEqual([first.stored.seq]);
    expect(w.connections.posts.length).toBe(posts);
    expect(again.reports).toEqual([]);
  });

  it('never fails the request once the message is stored: a failing fan-out is reported, the ack still goes', async () => {
    const registry = { ...w.deps.realtime.registry, connectionsOf: () => Promise.reject(new Error('redis down')) };
    const down = await aliceSends({ realtime: { ...w.deps.realtime, registry } });
    expect(down.acks).toEqual([down.stored.seq]);
    expect(down.reports).toHaveLength(1);
    expect(String((down.reports[0] as { error: unknown }).error)).toMatch(/redis down/);
    const failing = await w.connect(bob, 1);
    w.connections.failing.add(failing);
    const throttled = await aliceSends();
    expect(throttled.acks).toEqual([throttled.stored.seq]);
    expect((throttled.reports[0] as FanoutResult).failed).toBeGreaterThanOrEqual(1);
    w.connections.failing.clear();
  });

  it('refuses envelopes that miss or add a device with typed device lists', async () => {
    const error = await aliceSends({
      to: [
        [bob, 1],
        [bob, 3],
      ],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DevicesChangedError);
    expect((error as DevicesChangedError).devices).toEqual({
      missing: [{ userId: bob, deviceId: 2 }],
      extra: [{ userId: bob, deviceId: 3 }],
    });
    expect((error as DevicesChangedError).status).toBe(409);
  });
});

describe('the inbox', () => {
  it('acknowledging drops deliveries from /sync and reports them once', async () => {
    const device = { userId: bob, deviceId: 1 };
    const before = await readInbox(w.deps, device, { limit: 100 });
    expect(before.entries.length).toBeGreaterThan(0);
    const refs = before.entries.map((e) => ({ conversationId: e.conversationId, seq: e.entry.seq }));
    const acked = await acknowledge(w.deps, device, refs);
    expect(acked.map((a) => a.seq)).toEqual(refs.map((r) => r.seq));
    expect(await acknowledge(w.deps, device, refs)).toEqual([]);
    expect((await readInbox(w.deps, device, { limit: 100 })).entries).toEqual([]);
    const timeline = await readTimeline(w.deps, { userId: bob, deviceId: 1, sessionId: '' }, conversationId, {
      after: 0,
      limit: 50,
    });
    expect(timeline.messages.every((m) => m.type === 'message' && m.envelope === null)).toBe(true);
  });
});
