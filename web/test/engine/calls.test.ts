import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { callEventText, formatDuration } from '../../src/engine/call-format.ts';
import { type CallSignal, decodeCallSignal, encodeCallSignal, MAX_SDP_LENGTH } from '../../src/engine/call-signal.ts';
import { CallManager, type CallPort, type DeviceAddress } from '../../src/engine/calls.ts';
import type { CallEventView, CallStatsView, CallView } from '../../src/engine/types.ts';
import { FakePc, FakeStream, fakeMedia as media } from './fake-media.ts';

/**
 * The call state machine with fake media and a fake relay: every device is a CallManager, and `send` hands the
 * signal to the addressed devices' `receive` (as the core does after decrypting). WebRTC itself is covered by
 * the browser test (web/test/browser/calls.browser.test.ts).
 */

const ADA = '11111111-1111-4111-8111-111111111111';
const BOB = '22222222-2222-4222-8222-222222222222';
const CAROL = '33333333-3333-4333-8333-333333333333';
const ADA_BOB = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa';
const CAROL_BOB = 'cccccccc-cccc-4ccc-8ccc-cccccccccccc';

interface Device {
  readonly address: DeviceAddress;
  readonly manager: CallManager;
  readonly call: { value: CallView | null };
  readonly stats: { value: CallStatsView | null };
  readonly recorded: { conversationId: string; event: CallEventView }[];
  readonly ignored: string[];
  readonly sent: { to: readonly DeviceAddress[]; signal: CallSignal }[];
}

const names: Record<string, string> = { [ADA]: 'Ada', [BOB]: 'Bob', [CAROL]: 'Carol' };
const members: Record<string, [string, string]> = { [ADA_BOB]: [ADA, BOB], [CAROL_BOB]: [CAROL, BOB] };

function network(spec: Record<string, number[]>) {
  const devices: Device[] = [];
  const find = (a: DeviceAddress) =>
    devices.find((d) => d.address.userId === a.userId && d.address.deviceId === a.deviceId);
  for (const [userId, ids] of Object.entries(spec)) {
    for (const deviceId of ids) {
      const call = { value: null as CallView | null };
      const stats = { value: null as CallStatsView | null };
      const device: { -readonly [K in keyof Device]?: Device[K] } & Pick<Device, 'recorded' | 'ignored' | 'sent'> = {
        address: { userId, deviceId },
        call,
        stats,
        recorded: [],
        ignored: [],
        sent: [],
      };
      const port: CallPort = {
        userId,
        deviceId,
        peerOf: (conversationId) => {
          const pair = members[conversationId];
          if (!pair?.includes(userId)) return null;
          const peer = pair.find((m) => m !== userId) as string;
          return { userId: peer, displayName: names[peer] as string };
        },
        devicesOf: async (user) => spec[user] ?? [],
        send: async (conversationId, callId, to, signal) => {
          device.sent.push({ to, signal });
          // As the relay and the core do: the bytes are the padded, validated encoding.
          const bytes = encodeCallSignal({ callId, conversationId, signal });
          queueMicrotask(() => {
            for (const target of to) {
              const why = find(target)?.manager.receive(
                { userId, deviceId },
                conversationId,
                callId,
                decodeCallSignal(bytes).signal,
              );
              if (why) find(target)?.ignored.push(why);
            }
          });
        },
        iceServers: async () => [],
        record: async (conversationId, event) => {
          device.recorded.push({ conversationId, event });
        },
        log: () => undefined,
      };
      device.manager = new CallManager(port, call, stats, { callRingTimeoutMs: 30_000, media });
      devices.push(device as Device);
    }
  }
  return (userId: string, deviceId = 1) => find({ userId, deviceId }) as Device;
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
  await vi.advanceTimersByTimeAsync(100);
};

beforeEach(() => {
  vi.useFakeTimers();
  FakePc.all = [];
  vi.stubGlobal('MediaStream', FakeStream);
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('call state machine', () => {
  it('rings every callee device; the one that answers gets the call, the others stop ringing', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1, 2] });
    const ada = device(ADA);
    const [bob1, bob2] = [device(BOB, 1), device(BOB, 2)];

    await ada.manager.start(ADA_BOB, 'video');
    await settle();
    expect(ada.sent[0]?.signal.type).toBe('offer');
    expect(ada.sent[0]?.to).toEqual([
      { userId: BOB, deviceId: 1 },
      { userId: BOB, deviceId: 2 },
    ]);
    expect(bob1.call.value?.state).toBe('incoming');
    expect(bob2.call.value?.state).toBe('incoming');
    expect(ada.call.value).toMatchObject({ state: 'outgoing', ringing: true, direction: 'outgoing' });
    // The caller holds back its candidates until it knows which device answers.
    expect(ada.sent.filter((s) => s.signal.type === 'ice')).toEqual([]);

    await bob2.manager.accept('audio');
    await settle();
    expect(ada.call.value?.state).toBe('connecting');
    expect(bob2.call.value?.state).toBe('connecting');
    expect(bob1.call.value).toMatchObject({ state: 'ended', endedReason: 'Answered on another device' });
    // Candidates went both ways, to the two devices of the call only.
    const adaIce = ada.sent.filter((s) => s.signal.type === 'ice');
    expect(adaIce.length).toBeGreaterThan(0);
    for (const s of adaIce) expect(s.to).toEqual([{ userId: BOB, deviceId: 2 }]);
    expect(FakePc.all[0]?.added.length).toBeGreaterThan(0);

    for (const pc of FakePc.all) pc.connect();
    expect(ada.call.value?.state).toBe('connected');
    expect(bob2.call.value?.startedAt).not.toBeNull();
    await vi.advanceTimersByTimeAsync(65_000);
    expect(ada.stats.value?.inboundVideoBytes).toBe(1000);

    await bob2.manager.hangUp();
    await settle();
    expect(ada.call.value?.state).toBe('ended');
    expect(FakePc.all.every((pc) => pc.closed)).toBe(true);
    expect(ada.recorded).toEqual([
      {
        conversationId: ADA_BOB,
        event: expect.objectContaining({ media: 'video', outcome: 'completed', durationSeconds: 65 }),
      },
    ]);
    // Only the caller writes the event.
    expect(bob2.recorded).toEqual([]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(ada.call.value).toBeNull();
  });

  it('two callee devices answering at once: the first keeps the call, the second is let go', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1, 2] });
    await device(ADA).manager.start(ADA_BOB, 'audio');
    await settle();
    await Promise.all([device(BOB, 1).manager.accept('audio'), device(BOB, 2).manager.accept('audio')]);
    await settle();
    const bobs = [device(BOB, 1).call.value, device(BOB, 2).call.value];
    expect(bobs.filter((v) => v?.state === 'connecting')).toHaveLength(1);
    expect(bobs.filter((v) => v?.state === 'ended')).toEqual([
      expect.objectContaining({ endedReason: 'Answered on another device' }),
    ]);
    expect(device(ADA).call.value?.state).toBe('connecting');
  });

  it('an answered call that never connects fails after 30 s', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1] });
    await device(ADA).manager.start(ADA_BOB, 'video');
    await settle();
    await device(BOB).manager.accept('video');
    await settle();
    await vi.advanceTimersByTimeAsync(30_000);
    await settle();
    // Bob's bound ran out first (he answered first) and he told Ada.
    expect(device(BOB).call.value).toMatchObject({ state: 'ended', endedReason: 'Connection lost' });
    expect(device(ADA).call.value).toMatchObject({ state: 'ended', endedReason: 'Call failed' });
    expect(device(ADA).recorded[0]?.event.outcome).toBe('failed');
  });

  it('decline: the caller ends with "Declined" and records it; the callee’s other device stops ringing', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1, 2] });
    await device(ADA).manager.start(ADA_BOB, 'audio');
    await settle();
    await device(BOB, 1).manager.decline();
    await settle();
    expect(device(ADA).call.value).toMatchObject({ state: 'ended', endedReason: 'Declined' });
    expect(device(BOB, 2).call.value?.state).toBe('ended');
    expect(device(ADA).recorded[0]?.event).toMatchObject({ outcome: 'declined', media: 'audio', durationSeconds: 0 });
  });

  it('busy: a device already in a call answers busy and does not ring', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1], [CAROL]: [1] });
    await device(ADA).manager.start(ADA_BOB, 'audio');
    await settle();
    await device(BOB).manager.accept('audio');
    await settle();
    await device(CAROL).manager.start(CAROL_BOB, 'video');
    await settle();
    expect(device(CAROL).call.value).toMatchObject({ state: 'ended', endedReason: 'Bob is busy' });
    expect(device(CAROL).recorded[0]?.event.outcome).toBe('busy');
    expect(device(BOB).call.value?.conversationId).toBe(ADA_BOB);
    await expect(device(BOB).manager.start(ADA_BOB, 'audio')).rejects.toMatchObject({ code: 'busy' });
  });

  it('missed: after the ring timeout the caller gives up, tells the callee and records "missed"', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1] });
    await device(ADA).manager.start(ADA_BOB, 'video');
    await settle();
    await vi.advanceTimersByTimeAsync(30_000);
    await settle();
    expect(device(ADA).call.value).toMatchObject({ state: 'ended', endedReason: 'No answer' });
    expect(device(BOB).call.value).toMatchObject({ state: 'ended', endedReason: 'Missed call' });
    expect(device(ADA).recorded[0]?.event.outcome).toBe('missed');
  });

  it('cancel: the caller hangs up while it rings', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1] });
    await device(ADA).manager.start(ADA_BOB, 'audio');
    await settle();
    await device(ADA).manager.hangUp();
    await settle();
    expect(device(BOB).call.value?.state).toBe('ended');
    expect(device(ADA).recorded[0]?.event.outcome).toBe('cancelled');
  });

  it('a callee device that cannot take the call drops out; the call fails when none is left', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1, 2] });
    const ada = device(ADA);
    await ada.manager.start(ADA_BOB, 'audio');
    await settle();
    const callId = ada.call.value?.callId as string;
    const failed: CallSignal = { v: 1, type: 'hangup', reason: 'failed' };
    expect(ada.manager.receive({ userId: BOB, deviceId: 2 }, ADA_BOB, callId, failed)).toBeNull();
    expect(ada.call.value?.state).toBe('outgoing');
    expect(ada.manager.receive({ userId: BOB, deviceId: 1 }, ADA_BOB, callId, failed)).toBeNull();
    expect(ada.call.value).toMatchObject({ state: 'ended', endedReason: 'Call failed' });
    expect(ada.recorded[0]?.event.outcome).toBe('failed');
  });

  it('a connection that stays disconnected ends the call', async () => {
    const device = network({ [ADA]: [1], [BOB]: [1] });
    await device(ADA).manager.start(ADA_BOB, 'video');
    await settle();
    await device(BOB).manager.accept('video');
    await settle();
    for (const pc of FakePc.all) pc.connect();
    const adaPc = FakePc.all[0] as FakePc;
    adaPc.connectionState = 'disconnected';
    adaPc.onconnectionstatechange?.();
    await vi.advanceTimersByTimeAsync(5000);
    expect(device(ADA).call.value?.state).toBe('connected');
    await vi.advanceTimersByTimeAsync(6000);
    await settle();
    expect(device(ADA).call.value).toMatchObject({ state: 'ended', endedReason: 'Connection lost' });
    expect(device(BOB).call.value).toMatchObject({ state: 'ended', endedReason: 'Call failed' });
    expect(device(ADA).recorded[0]?.event).toMatchObject({ outcome: 'completed', durationSeconds: 10 });
  });

  it('ignores signals from devices that are not part of the call', async () => {
    const device = network({ [ADA]: [1, 2], [BOB]: [1], [CAROL]: [1] });
    const bob = device(BOB);
    // An offer in a conversation the sender is not the peer of.
    expect(bob.manager.receive({ userId: CAROL, deviceId: 1 }, ADA_BOB, crypto.randomUUID(), offer())).toMatch(
      /not the peer/,
    );
    expect(bob.call.value).toBeNull();

    await device(ADA, 1).manager.start(ADA_BOB, 'audio');
    await settle();
    const callId = bob.call.value?.callId as string;
    // Hang-up, decline, "handled" from anyone but the caller's device or one's own other devices: ignored.
    expect(
      bob.manager.receive({ userId: ADA, deviceId: 2 }, ADA_BOB, callId, { v: 1, type: 'hangup', reason: 'ended' }),
    ).not.toBeNull();
    expect(
      bob.manager.receive({ userId: ADA, deviceId: 1 }, ADA_BOB, callId, {
        v: 1,
        type: 'handled',
        outcome: 'accepted',
      }),
    ).not.toBeNull();
    expect(
      bob.manager.receive({ userId: ADA, deviceId: 1 }, ADA_BOB, crypto.randomUUID(), {
        v: 1,
        type: 'hangup',
        reason: 'ended',
      }),
    ).toBe('no such call');
    expect(bob.call.value?.state).toBe('incoming');
    // An answer from a device the offer did not go to.
    const ada = device(ADA, 1);
    expect(
      ada.manager.receive({ userId: CAROL, deviceId: 1 }, ADA_BOB, callId, {
        v: 1,
        type: 'answer',
        media: 'audio',
        sdp: 'v=0',
      }),
    ).not.toBeNull();
    expect(ada.call.value?.state).toBe('outgoing');
  });
});

describe('call signal encoding', () => {
  it('round-trips every kind, padded', () => {
    const signals: CallSignal[] = [
      offer(),
      { v: 1, type: 'ringing' },
      { v: 1, type: 'answer', media: 'audio', sdp: 'v=0' },
      { v: 1, type: 'ice', candidates: [{ candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 }] },
      { v: 1, type: 'decline' },
      { v: 1, type: 'busy' },
      { v: 1, type: 'hangup', reason: 'timeout' },
      { v: 1, type: 'handled', outcome: 'declined' },
    ];
    for (const signal of signals) {
      const bound = { callId: crypto.randomUUID(), conversationId: ADA_BOB, signal };
      const bytes = encodeCallSignal(bound);
      expect(bytes.length % 160).toBe(0);
      expect(decodeCallSignal(bytes)).toEqual(bound);
    }
  });

  it('refuses unknown kinds, extra fields, oversized SDP and content items (disjoint from messages)', () => {
    const raw = (value: unknown) => {
      const json = new TextEncoder().encode(JSON.stringify(value));
      const out = new Uint8Array(json.length + 1);
      out.set(json);
      out[json.length] = 0x80;
      return out;
    };
    const bind = (signal: unknown) => ({ callId: crypto.randomUUID(), conversationId: ADA_BOB, signal });
    expect(decodeCallSignal(raw(bind({ v: 1, type: 'busy' }))).signal.type).toBe('busy');
    expect(() => decodeCallSignal(raw(bind({ v: 1, type: 'transfer' })))).toThrow();
    expect(() => decodeCallSignal(raw(bind({ v: 1, type: 'busy', extra: 1 })))).toThrow();
    expect(() => decodeCallSignal(raw(bind({ v: 2, type: 'busy' })))).toThrow();
    expect(() => decodeCallSignal(raw(bind({ ...offer(), sdp: 'x'.repeat(MAX_SDP_LENGTH + 1) })))).toThrow();
    expect(() => decodeCallSignal(raw({ v: 1, type: 'busy' }))).toThrow();
    expect(() => decodeCallSignal(raw({ ...bind({ v: 1, type: 'busy' }), callId: 'not-a-uuid' }))).toThrow();
    // A message's content decrypted as a signal (or the reverse) fails: the shapes are disjoint.
    expect(() => decodeCallSignal(raw({ v: 1, id: crypto.randomUUID(), kind: 'text', text: 'hi' }))).toThrow();
  });
});

describe('call event wording', () => {
  it('reads from the viewer’s side', () => {
    const event = (outcome: CallEventView['outcome'], durationSeconds = 0): CallEventView => ({
      callId: crypto.randomUUID(),
      media: 'video',
      outcome,
      durationSeconds,
    });
    expect(callEventText(event('completed', 133), true)).toBe('Video call · 2:13');
    expect(callEventText(event('missed'), false)).toBe('Missed video call');
    expect(callEventText(event('missed'), true)).toBe('Video call · No answer');
    expect(callEventText({ ...event('cancelled'), media: 'audio' }, false)).toBe('Missed voice call');
    expect(formatDuration(3725)).toBe('1:02:05');
  });
});

function offer(): CallSignal {
  return { v: 1, type: 'offer', media: 'video', sdp: 'v=0 offer' };
}
