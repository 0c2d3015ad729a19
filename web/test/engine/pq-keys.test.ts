/**
 * PQXDH in the engine against the in-memory local store: this device's ML-KEM prekeys published (a classical
 * device's upgrade) and topped up, sessions started as PQXDH, and a bundle stripped of its PQ prekey refused for
 * a device known to be post-quantum, in `startSession` and in the sender's `seal`.
 */
import { CryptoErrorCode, IdentityKeyPair, initCrypto, ProtocolAddress } from '@ciphertalk/shared/crypto';
import type { Device, SignedPqPreKey } from '@ciphertalk/shared/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/engine/local-store.ts';
import {
  maintainPqPreKeys,
  PQ_PREKEY_BATCH,
  rememberPostQuantumDevices,
  sessionKinds,
  startSession,
} from '../../src/engine/pq-keys.ts';
import { bundleOf, Sender } from '../../src/engine/sender.ts';
import { conversation, directoryOf, fakeApi, peer } from './stages.ts';

beforeAll(() => initCrypto());

const CONV = '00000000-0000-4000-8000-00000000c0c0';

const row = (over: Partial<Device>): Device => ({
  deviceId: 1,
  name: 'Browser',
  registrationId: 1,
  identityKey: '',
  createdAt: '2026-01-01T00:00:00.000Z',
  lastSeenAt: '2026-01-01T00:00:00.000Z',
  current: true,
  preKeysRemaining: 100,
  postQuantum: true,
  pqPreKeysRemaining: 100,
  ...over,
});

describe('PQ prekeys of this device', () => {
  it('publishes the first last-resort key and a batch for a classical device, and nothing when stocked', async () => {
    const identity = IdentityKeyPair.generate();
    const store = memoryStore();
    const stores = store.cryptoStores(identity, 1);
    const lastResorts: SignedPqPreKey[] = [];
    const batches: SignedPqPreKey[][] = [];
    const api = fakeApi({
      'PUT /devices/{deviceId}/pq-last-resort-prekey': ({ body }) => {
        lastResorts.push(body.pqLastResortPreKey);
        return undefined as never;
      },
      'POST /devices/{deviceId}/pq-prekeys': ({ body }) => {
        batches.push(body.pqPreKeys);
        return { pqPreKeysRemaining: body.pqPreKeys.length };
      },
    });
    await maintainPqPreKeys(api, store, stores, identity, row({ postQuantum: false, pqPreKeysRemaining: 0 }));
    expect(lastResorts.map((k) => k.keyId)).toEqual([1]);
    expect(batches[0]?.length).toBe(PQ_PREKEY_BATCH);
    expect(await store.pqKeys()).toEqual({ nextId: 2 + PQ_PREKEY_BATCH, lastResortId: 1 });
    expect((await stores.pqPreKeys.loadPqPreKey(1))?.lastResort).toBe(true);
    expect((await stores.pqPreKeys.loadPqPreKey(2))?.lastResort).toBe(false);

    await maintainPqPreKeys(api, store, stores, identity, row({}));
    expect(api.calls).toHaveLength(2);
  });
});

describe('PQXDH sessions', () => {
  it('starts a PQXDH session, and refuses a stripped bundle from a device listed as post-quantum', async () => {
    const alice = await peer('alice', 1);
    const bob = await peer('bob', 1);
    const store = memoryStore();
    await startSession(store, alice.stores, bob.address, bundleOf(bob.bundle()));
    expect(await sessionKinds(alice.stores, [bob.address])).toEqual([{ deviceId: 1, kind: 'pqxdh' }]);

    const carol = await peer('carol', 1);
    await rememberPostQuantumDevices(store, 'carol', [carol.device]);
    const stripped = bundleOf({ ...carol.bundle(), pqPreKey: null });
    await expect(startSession(store, alice.stores, carol.address, stripped)).rejects.toMatchObject({
      code: CryptoErrorCode.PostQuantumDowngrade,
    });
    expect(await alice.stores.sessions.loadSession(carol.address)).toBeUndefined();
  });

  it('the sender refuses a stripped bundle of a device that gave a PQ bundle before', async () => {
    const alice = await peer('alice', 1);
    const bob = await peer('bob', 1);
    let strip = false;
    const api = fakeApi({
      'GET /users/{userId}/devices/{deviceId}/prekey-bundle': () => {
        const bundle = { ...bob.bundle(), userId: 'bob' };
        return { bundle: strip ? { ...bundle, pqPreKey: null } : bundle };
      },
    });
    const store = memoryStore();
    const sender = new Sender({
      api,
      socket: () => null,
      directory: directoryOf(api, 'alice', [conversation(CONV, 'direct', ['alice', 'bob'])]),
      store,
      stores: alice.stores,
      me: alice.address,
      log: () => undefined,
    });
    const plaintext = new Uint8Array([1, 2, 3]);
    await sender.seal([bob.address], plaintext);
    expect(await store.isPostQuantum(bob.address.toString())).toBe(true);
    // The session is lost (a reinstall, a reset): the next bundle must be PQ again.
    await alice.stores.sessions.deleteSession(bob.address);
    strip = true;
    await expect(sender.seal([ProtocolAddress.of('bob', 1)], plaintext)).rejects.toMatchObject({
      code: CryptoErrorCode.PostQuantumDowngrade,
    });
  });
});
