/**
 * The local store's contract, run against both implementations: IndexedDB (fake-indexeddb) and memory.
 */
import { IdentityKeyPair, initCrypto, PqPreKeyRecord } from '@ciphertalk/shared/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LocalStore, memoryStore, openIndexedDbStore } from '../../src/engine/local-store.ts';
import type { ItemRecord, OutboxRecord } from '../../src/engine/records.ts';

beforeAll(() => initCrypto());

let n = 0;
const implementations: [string, () => Promise<LocalStore>][] = [
  ['memory', async () => memoryStore()],
  ['indexeddb', () => openIndexedDbStore(indexedDB, `local-store-test-${++n}`)],
];

function item(key: string, text: string, terms: string[]): ItemRecord {
  return {
    key,
    conversationId: key.split('|')[0] ?? '',
    contentId: key.split('|')[1] ?? null,
    seq: null,
    kind: 'message',
    senderId: 'u1',
    senderDeviceId: 1,
    at: '2026-01-01T00:00:00.000Z',
    localTime: 1,
    text,
    replyTo: null,
    reactions: {},
    edited: false,
    deleted: false,
    state: 'sending',
    decryptError: null,
    terms,
  };
}

const job = (contentId: string, queuedAt: number): OutboxRecord => ({
  contentId,
  conversationId: 'c1',
  clientMessageId: `m-${contentId}`,
  content: { v: 1, id: contentId, kind: 'text', text: 'hi' },
  queuedAt,
});

describe.each(implementations)('LocalStore (%s)', (_name, open) => {
  it('stores an item with its search postings, and re-indexes it on change', async () => {
    const store = await open();
    const first = item('c1|a', 'hello world', ['hello', 'world']);
    await store.commit({ put: [{ item: first }] });
    expect(await store.searchPrefix('wor')).toEqual(new Set(['c1|a']));
    await store.commit({
      put: [{ item: { ...first, text: 'hello there', terms: ['hello', 'there'] }, previousTerms: first.terms }],
    });
    expect(await store.searchPrefix('wor')).toEqual(new Set());
    expect(await store.searchPrefix('the')).toEqual(new Set(['c1|a']));
    expect((await store.item('c1|a'))?.text).toBe('hello there');
    await store.commit({ remove: [{ ...first, terms: ['hello', 'there'] }] });
    expect(await store.item('c1|a')).toBeUndefined();
    expect(await store.searchPrefix('hello')).toEqual(new Set());
    await store.destroy();
  });

  it('hands out copies: changing what was read changes nothing stored', async () => {
    const store = await open();
    await store.commit({ put: [{ item: item('c1|a', 'one', []) }] });
    const read = await store.item('c1|a');
    if (read) read.text = 'changed';
    expect((await store.item('c1|a'))?.text).toBe('one');
    await store.destroy();
  });

  it('keeps PQXDH state: the ML-KEM prekey ids with their records, and which devices are post-quantum', async () => {
    const store = await open();
    const identity = IdentityKeyPair.generate();
    const record = PqPreKeyRecord.generate(7, identity, { lastResort: true });
    await store.savePqKeys({ nextId: 8, lastResortId: 7 }, [record]);
    expect(await store.pqKeys()).toEqual({ nextId: 8, lastResortId: 7 });
    const pqPreKeys = store.cryptoStores(identity, 1).pqPreKeys;
    expect((await pqPreKeys.loadPqPreKey(7))?.serialize()).toEqual(record.serialize());
    const baseKey = new Uint8Array(32).fill(1);
    expect(await pqPreKeys.markPqPreKeyUsed(7, 1, baseKey)).toBe(true);
    expect(await pqPreKeys.markPqPreKeyUsed(7, 1, baseKey)).toBe(false);
    expect(await store.isPostQuantum('bob.1')).toBe(false);
    await store.setPostQuantum('bob.1');
    expect(await store.isPostQuantum('bob.1')).toBe(true);
    await store.destroy();
  });

  it('writes a state change at once: item, processed entry and outbox job together', async () => {
    const store = await open();
    await store.commit({ put: [{ item: item('c1|a', 'x', []) }], enqueue: job('a', 2) });
    await store.commit({ enqueue: job('b', 1) });
    expect(((await store.outbox()) as OutboxRecord[]).map((r) => r.contentId).sort()).toEqual(['a', 'b']);
    expect(await store.isProcessed('c1:7')).toBe(false);
    await store.commit({ dequeue: 'a', processed: ['c1:7'], put: [{ item: { ...item('c1|a', 'x', []), seq: 7 } }] });
    expect(((await store.outbox()) as OutboxRecord[]).map((r) => r.contentId)).toEqual(['b']);
    expect(await store.isProcessed('c1:7')).toBe(true);
    expect((await store.item('c1|a'))?.seq).toBe(7);
    await store.destroy();
  });

  it('keeps trust, groups, sync markers, avatars and the device; reset forgets them', async () => {
    const store = await open();
    await store.setTrust('u2', { keys: ['1:k'], verifiedKeys: null, changed: false });
    await store.setGroup('g1', { distributedTo: ['u2.1'] });
    await store.setSyncedUpTo('c1', 12);
    await store.setAvatar({ subject: 'u2', at: '2026-01-01T00:00:00.000Z', image: new Uint8Array([1, 2]) });
    await store.saveDevice({
      deviceId: 3,
      identity: new Uint8Array([9]),
      registrationId: 5,
      nextPreKeyId: 101,
      signedPreKeyId: 1,
    });
    expect(await store.trust()).toEqual([
      { userId: 'u2', record: { keys: ['1:k'], verifiedKeys: null, changed: false } },
    ]);
    expect(await store.trustOf('u2')).toEqual({ keys: ['1:k'], verifiedKeys: null, changed: false });
    expect(await store.group('g1')).toEqual({ distributedTo: ['u2.1'] });
    expect(await store.syncedUpTo('c1')).toBe(12);
    expect(await store.syncedUpTo('c2')).toBe(0);
    expect((await store.avatars()).map((a) => a.subject)).toEqual(['u2']);
    expect((await store.device())?.deviceId).toBe(3);
    await store.reset();
    expect(await store.device()).toBeUndefined();
    expect(await store.trust()).toEqual([]);
    expect(await store.avatars()).toEqual([]);
    await store.destroy();
  });
});
