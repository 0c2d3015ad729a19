/**
 * The sender against in-memory stores: pairwise envelopes for every device but this one (through the shared
 * multi-device fan-out), sessions made from claimed bundles, a 409 devices_changed answered with the typed
 * device lists, and sender keys distributed before the first group message. The receiver opens what it sent.
 */
import { initCrypto, ProtocolAddress, SessionCipher } from '@ciphertalk/shared/crypto';
import type { SendMessageRequest } from '@ciphertalk/shared/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/engine/base64.ts';
import { decodeContent, encodeContent } from '../../src/engine/content.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { memoryStore } from '../../src/engine/local-store.ts';
import { Sender } from '../../src/engine/sender.ts';
import { conversation, directoryOf, fakeApi, type Peer, peer } from './stages.ts';

beforeAll(() => initCrypto());

const CONV = '00000000-0000-4000-8000-00000000c0c0';
const text = (body: string) => encodeContent({ v: 1, id: crypto.randomUUID(), kind: 'text', text: body });

async function setUp(devices: Record<string, Peer[]>, kind: 'direct' | 'group' = 'direct') {
  const alice = await peer('alice', 1);
  const posted: SendMessageRequest[] = [];
  const replies: ((request: SendMessageRequest) => unknown)[] = [];
  const api = fakeApi({
    'GET /users/{userId}/devices': ({ path }) => ({
      userId: String(path.userId),
      devices: (devices[String(path.userId)] ?? []).map((p) => p.device),
    }),
    'GET /users/{userId}/devices/{deviceId}/prekey-bundle': ({ path }) => {
      const owner = devices[String(path.userId)]?.find((p) => p.address.deviceId === Number(path.deviceId));
      if (!owner) throw new Error('no such device');
      return { bundle: { ...owner.bundle(), userId: String(path.userId) } };
    },
    'GET /conversations/{conversationId}': () => ({ conversation: conversation(CONV, kind, Object.keys(devices)) }),
    'POST /conversations/{conversationId}/messages': ({ body }) => {
      posted.push(body as SendMessageRequest);
      const reply = replies.shift();
      if (reply) reply(body as SendMessageRequest);
      return { seq: posted.length, createdAt: '2026-01-01T00:00:00.000Z' };
    },
  });
  const store = memoryStore();
  const sender = new Sender({
    api,
    socket: () => null,
    directory: directoryOf(api, 'alice', [conversation(CONV, kind, Object.keys(devices))]),
    store,
    stores: alice.stores,
    me: alice.address,
    log: () => undefined,
  });
  return { alice, sender, posted, replies, store };
}

async function open(recipient: Peer, from: ProtocolAddress, ciphertext: string) {
  return decodeContent((await new SessionCipher(recipient.stores, from).decrypt(fromBase64(ciphertext))).plaintext);
}

describe('Sender', () => {
  it('encrypts a direct message once per device of both users but the sending one', async () => {
    const bob1 = await peer('bob', 1);
    const bob2 = await peer('bob', 2);
    const alice2 = await peer('alice', 2);
    const { sender, posted, alice } = await setUp({ alice: [alice2], bob: [bob1, bob2] });
    await sender.send(CONV, text('hello'), 'cm-1');
    const [request] = posted;
    if (!request || !('envelopes' in request)) throw new Error('expected a pairwise request');
    expect(request.clientMessageId).toBe('cm-1');
    expect(request.envelopes.map((e) => `${e.userId}.${e.deviceId}`).sort()).toEqual(['alice.2', 'bob.1', 'bob.2']);
    expect(request.envelopes.every((e) => e.type === 'prekey')).toBe(true);
    const forBob2 = request.envelopes.find((e) => e.userId === 'bob' && e.deviceId === 2);
    expect(await open(bob2, alice.address, forBob2?.ciphertext ?? '')).toMatchObject({ kind: 'text', text: 'hello' });
  });

  it('after a 409 devices_changed learns the devices, drops the extra ones and sends the same clientMessageId', async () => {
    const bob1 = await peer('bob', 1);
    const bob2 = await peer('bob', 2);
    const devices: Record<string, Peer[]> = { alice: [], bob: [bob1] };
    const { sender, posted, replies } = await setUp(devices);
    replies.push(() => {
      devices.bob = [bob2];
      throw new EngineError('devices_changed', 'Devices changed', {
        status: 409,
        devices: { missing: [{ userId: 'bob', deviceId: 2 }], extra: [{ userId: 'bob', deviceId: 1 }] },
      });
    });
    await sender.send(CONV, text('again'), 'cm-2');
    expect(posted).toHaveLength(2);
    const retry = posted[1];
    if (!retry || !('envelopes' in retry)) throw new Error('expected a pairwise retry');
    expect(retry.clientMessageId).toBe('cm-2');
    expect(retry.envelopes.map((e) => `${e.userId}.${e.deviceId}`)).toEqual(['bob.2']);
  });

  it('distributes its sender key pairwise before the first group message, then sends one ciphertext', async () => {
    const bob1 = await peer('bob', 1);
    const carol1 = await peer('carol', 1);
    const { sender, posted, store } = await setUp({ alice: [], bob: [bob1], carol: [carol1] }, 'group');
    await sender.send(CONV, text('to the group'), 'cm-3');
    expect(posted).toHaveLength(2);
    const [distribution, message] = posted;
    if (!distribution || !('envelopes' in distribution)) throw new Error('expected the distribution first');
    if (!message || !('senderKeyCiphertext' in message)) throw new Error('expected a sender-key message');
    const forCarol = distribution.envelopes.find((e) => e.userId === 'carol');
    expect(await open(carol1, ProtocolAddress.of('alice', 1), forCarol?.ciphertext ?? '')).toMatchObject({
      kind: 'sender_key',
    });
    expect(message.recipients.map((r) => r.userId).sort()).toEqual(['bob', 'carol']);
    expect((await store.group(CONV))?.distributedTo.sort()).toEqual(['bob.1', 'carol.1']);
    // A second message needs no new distribution.
    await sender.send(CONV, text('again'), 'cm-4');
    expect(posted).toHaveLength(3);
  });
});
