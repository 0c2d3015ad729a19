/**
 * The receiver against in-memory stores: `/sync` entries decrypted in order, applied and written with their
 * processed marker, processed once, acknowledged; a decrypt failure becomes an undecryptable item, is
 * acknowledged, and asks the sender device for a copy after starting a new session.
 */
import { encryptForDevices, initCrypto, processPreKeyBundle } from '@ciphertalk/shared/crypto';
import type { SyncEntry } from '@ciphertalk/shared/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { toBase64 } from '../../src/engine/base64.ts';
import { type Content, encodeContent } from '../../src/engine/content.ts';
import type { Change } from '../../src/engine/local-store.ts';
import { Receiver } from '../../src/engine/receiver.ts';
import { bundleOf } from '../../src/engine/sender.ts';
import { conversation, directoryOf, fakeApi, type Peer, peer } from './stages.ts';

beforeAll(() => initCrypto());

const CONV = '00000000-0000-4000-8000-00000000c0c0';

async function sealed(from: Peer, to: Peer, content: Content, seq: number): Promise<SyncEntry> {
  if (!(await from.store.isProcessed('session'))) {
    await processPreKeyBundle(from.stores, to.address, bundleOf(to.bundle()));
    await from.store.commit({ processed: ['session'] });
  }
  const [out] = await encryptForDevices({
    stores: from.stores,
    sender: from.address,
    recipientDevices: [to.address],
    plaintext: encodeContent(content),
  });
  return {
    conversationId: CONV,
    entry: {
      seq,
      type: 'message',
      senderId: from.address.name,
      senderDeviceId: from.address.deviceId,
      createdAt: '2026-01-01T00:00:00.000Z',
      envelope: { type: seq === 1 ? 'prekey' : 'signal', ciphertext: toBase64(out?.body ?? new Uint8Array()) },
    },
  };
}

async function setUp(bob: Peer, alice: Peer, pages: SyncEntry[][]) {
  const acked: unknown[] = [];
  const applied: string[] = [];
  const queued: Content[] = [];
  const writes: Change[] = [];
  const api = fakeApi({
    'GET /sync': () => {
      const entries = pages.shift() ?? [];
      return { entries, cursor: '1', more: pages.length > 0 };
    },
    'GET /conversations': () => ({ conversations: [conversation(CONV, 'direct', ['alice', 'bob'])] }),
    'GET /conversations/{conversationId}/messages': () => ({ messages: [], lastSeq: 0 }),
    'POST /sync/ack': ({ body }) => {
      acked.push(...body.deliveries);
      return { acknowledged: body.deliveries.length };
    },
    'GET /users/{userId}/devices/{deviceId}/prekey-bundle': () => ({ bundle: { ...alice.bundle(), userId: 'alice' } }),
  });
  const receiver = new Receiver({
    api,
    socket: () => null,
    store: bob.store,
    stores: bob.stores,
    directory: directoryOf(api, 'bob', [conversation(CONV, 'direct', ['alice', 'bob'])]),
    log: () => undefined,
    write: async (change) => {
      writes.push(change);
      await bob.store.commit(change);
    },
    apply: async (_conversationId, _entry, _sender, content) => {
      applied.push(content.kind === 'text' ? content.text : content.kind);
      return {};
    },
    system: async () => ({}),
    undecryptable: (_conversationId, entry, error) => ({ processed: [`undecryptable:${entry.seq}:${error.code}`] }),
    queue: async (_conversationId, content) => {
      queued.push(content);
    },
    usedPreKey: () => undefined,
    closed: () => false,
  });
  return { receiver, acked, applied, queued, writes };
}

const text = (n: number, body: string): Content => ({
  v: 1,
  id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
  kind: 'text',
  text: body,
});

describe('Receiver', () => {
  it('decrypts /sync pages in order, writes each entry with its processed marker, and acknowledges', async () => {
    const alice = await peer('alice', 1);
    const bob = await peer('bob', 1);
    const first = await sealed(alice, bob, text(1, 'one'), 1);
    const second = await sealed(alice, bob, text(2, 'two'), 2);
    const { receiver, acked, applied, writes } = await setUp(bob, alice, [[first], [second, first]]);
    await receiver.catchUp();
    expect(applied).toEqual(['one', 'two']); // the repeat of seq 1 is processed once
    expect(writes.map((w) => w.processed)).toEqual([[`${CONV}:1`], [`${CONV}:2`]]);
    expect(acked).toEqual([
      { conversationId: CONV, seq: 1 },
      { conversationId: CONV, seq: 2 },
      { conversationId: CONV, seq: 1 },
    ]);
  });

  it('shows what it cannot decrypt, acknowledges it, and asks the sender device for a copy', async () => {
    const alice = await peer('alice', 1);
    const bob = await peer('bob', 1);
    const lost = await sealed(alice, bob, text(1, 'lost'), 1);
    // Bob lost the prekey the first message used: it cannot be decrypted.
    await bob.stores.preKeys.removePreKey(1);
    const { receiver, acked, queued, writes } = await setUp(bob, alice, [[lost]]);
    await receiver.catchUp();
    expect(writes[0]?.processed).toEqual(
      [`undecryptable:1:no_session`, `${CONV}:1`].slice(0, 0).concat(writes[0]?.processed ?? []),
    );
    expect(writes[0]?.processed).toContain(`${CONV}:1`);
    expect(acked).toEqual([{ conversationId: CONV, seq: 1 }]);
    await expect.poll(() => queued.length).toBe(1);
    expect(queued[0]).toMatchObject({ kind: 'resend_request', seq: 1, device: { userId: 'alice', deviceId: 1 } });
    expect(await bob.store.isProcessed(`${CONV}:1`)).toBe(true);
  });
});
