import { randomBytes } from 'node:crypto';
import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEngine } from '../../src/engine/index.ts';
import type { Engine, MessageView, WebSocketConstructor } from '../../src/engine/types.ts';
import { FakePc, FakeStream, fakeMedia } from './fake-media.ts';
import { eventually, network, password } from './support.ts';

/**
 * Call signalling through the real stack (relay, pairwise encryption, device lists), with WebRTC faked: Bob has
 * two devices, both ring, one answers and the other stops; the call event reaches every device; Carol, online
 * and in a conversation with Alice, receives no frame of the call. Real media is the browser test's part.
 */

const fixture = stackOnFreshSchema({ redisDb: 2 });

interface Device {
  engine: Engine;
  id: string;
  /** Every frame this device's socket received. */
  frames: string[];
  events: string[];
}

async function device(
  label: string,
  account: { email: string; password: string; displayName?: string },
  signUp: boolean,
): Promise<Device> {
  const net = network();
  const frames: string[] = [];
  const Base = net.WebSocket as unknown as new (
    url: string,
  ) => { on(event: 'message', cb: (data: unknown) => void): void };
  net.WebSocket = class extends Base {
    constructor(url: string) {
      super(url);
      this.on('message', (data) => frames.push(String(data)));
    }
  } as unknown as WebSocketConstructor;
  const events: string[] = [];
  const engine = createEngine({
    apiUrl: fixture.stack.restUrl,
    wsUrl: fixture.stack.wsUrl,
    fetch: net.fetch,
    WebSocket: net.WebSocket,
    dbPrefix: `${label}-${randomBytes(4).toString('hex')}-`,
    deviceName: label,
    log: (event) => events.push(event),
    media: fakeMedia,
    callRingTimeoutMs: 20_000,
  });
  if (signUp) {
    await engine.register({
      email: account.email,
      password: account.password,
      displayName: account.displayName ?? label,
    });
  } else {
    await engine.login({ email: account.email, password: account.password });
  }
  const me = engine.me.value;
  if (!me) throw new Error('no user');
  await eventually(() => expect(engine.connection.value).toBe('online'));
  return { engine, id: me.id, frames, events };
}

const account = (name: string) => ({
  email: `${name}-${randomBytes(4).toString('hex')}@example.test`,
  password: password(),
  displayName: name,
});

let alice: Device;
let bob1: Device;
let bob2: Device;
let carol: Device;
let aliceBob: string;

beforeAll(async () => {
  vi.stubGlobal('MediaStream', FakeStream);
  const bob = account('Bob');
  alice = await device('Alice', account('Alice'), true);
  bob1 = await device('Bob', bob, true);
  bob2 = await device('Bob', bob, false);
  carol = await device('Carol', account('Carol'), true);
  aliceBob = await alice.engine.createDirect(bob1.id);
  const aliceCarol = await alice.engine.createDirect(carol.id);
  await alice.engine.send(aliceCarol, 'Hello Carol');
  await eventually(() =>
    expect(
      carol.engine.timeline(aliceCarol).value.items.some((i) => i.kind === 'message' && i.text === 'Hello Carol'),
    ).toBe(true),
  );
  for (const d of [bob1, bob2]) await d.engine.refreshConversations();
});

afterAll(async () => {
  for (const d of [alice, bob1, bob2, carol]) await d?.engine.close();
  vi.unstubAllGlobals();
});

const callEvents = (d: Device) =>
  d.engine
    .timeline(aliceBob)
    .value.items.filter((i): i is MessageView => i.kind === 'message' && i.call !== null)
    .map((m) => m.call);

describe('calls through the local stack', () => {
  it('rings both of Bob’s devices; the one that answers gets the call, the other stops ringing', async () => {
    const carolFramesBefore = carol.frames.length;
    FakePc.all = [];
    await alice.engine.startCall(aliceBob, 'video');
    await eventually(() => expect(bob1.engine.call.value?.state).toBe('incoming'));
    await eventually(() => expect(bob2.engine.call.value?.state).toBe('incoming'));
    await eventually(() => expect(alice.engine.call.value?.ringing).toBe(true));
    expect(bob1.engine.call.value).toMatchObject({ direction: 'incoming', media: 'video', peer: { userId: alice.id } });

    await bob2.engine.acceptCall('video');
    await eventually(() => expect(alice.engine.call.value?.state).toBe('connecting'));
    await eventually(() =>
      expect(bob1.engine.call.value).toMatchObject({ state: 'ended', endedReason: 'Answered on another device' }),
    );
    // Candidates crossed (through the relay, encrypted) before anything connected.
    await eventually(() => expect(FakePc.all.every((pc) => pc.added.length > 0)).toBe(true));
    for (const pc of FakePc.all) pc.connect();
    expect(alice.engine.call.value?.state).toBe('connected');
    expect(bob2.engine.call.value?.state).toBe('connected');

    await alice.engine.hangUp();
    await eventually(() => expect(bob2.engine.call.value?.state ?? 'gone').toMatch(/ended|gone/));
    for (const d of [alice, bob1, bob2]) {
      await eventually(() =>
        expect(callEvents(d)).toEqual([expect.objectContaining({ media: 'video', outcome: 'completed' })]),
      );
    }

    // What the server relayed was ciphertext only: no SDP, no fingerprint, no candidate.
    for (const raw of [...bob1.frames, ...bob2.frames, ...alice.frames]) {
      expect(raw).not.toContain('fingerprint');
      expect(raw).not.toContain('candidate:');
    }
    expect(bob2.frames.some((raw) => raw.includes('"call.signal"'))).toBe(true);
    // Carol is online (her socket keeps working) but nothing of the call reached her.
    expect(carol.engine.connection.value).toBe('online');
    expect(carol.frames.slice(carolFramesBefore).filter((raw) => raw.includes('call'))).toEqual([]);
  });

  it('a user in a call is busy: the caller hears busy and the callee’s other device stops ringing', async () => {
    FakePc.all = [];
    await alice.engine.startCall(aliceBob, 'audio');
    await eventually(() => expect(bob1.engine.call.value?.state).toBe('incoming'));
    await bob1.engine.acceptCall('audio');
    await eventually(() => expect(alice.engine.call.value?.state).toBe('connecting'));
    await expect(alice.engine.startCall(aliceBob, 'audio')).rejects.toMatchObject({ code: 'busy' });

    const carolBob = await carol.engine.createDirect(bob1.id);
    await bob1.engine.refreshConversations();
    await bob2.engine.refreshConversations();
    await eventually(() => expect(bob2.engine.call.value ?? null).toBeNull(), 5000);
    await carol.engine.startCall(carolBob, 'video');
    await eventually(() =>
      expect(carol.engine.call.value).toMatchObject({ state: 'ended', endedReason: 'Bob is busy' }),
    );
    // Bob's second device may have started ringing; Carol's hang-up stops it.
    await eventually(() => expect(bob2.engine.call.value?.state ?? 'gone').toMatch(/ended|gone/));
    expect(bob1.engine.call.value).toMatchObject({ conversationId: aliceBob, state: 'connecting' });
    await eventually(() =>
      expect(
        carol.engine
          .timeline(carolBob)
          .value.items.filter((i): i is MessageView => i.kind === 'message' && i.call !== null)
          .map((m) => m.call?.outcome),
      ).toEqual(['busy']),
    );

    await bob1.engine.hangUp();
    await eventually(() => expect(alice.engine.call.value?.state ?? 'gone').toMatch(/ended|gone/));
    // Hung up before media flowed: recorded as failed rather than a completed call of 0:00.
    await eventually(() => expect(callEvents(bob2).at(-1)).toMatchObject({ media: 'audio', outcome: 'failed' }));
  });
});
