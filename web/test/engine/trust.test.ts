/** Trust: what a changed device list means, kept in the in-memory store and shown in the trust signal. */
import { IdentityKeyPair, initCrypto } from '@ciphertalk/shared/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/engine/local-store.ts';
import { createState } from '../../src/engine/state.ts';
import { nextTrust, Trust } from '../../src/engine/trust.ts';

describe('nextTrust', () => {
  it('trusts on first sight, warns when a known device changes its key', () => {
    const first = nextTrust(undefined, ['1:a']);
    expect(first).toEqual({ keys: ['1:a'], verifiedKeys: null, changed: false });
    expect(nextTrust(first ?? undefined, ['1:a'])).toBeNull();
    expect(nextTrust(first ?? undefined, ['1:a', '2:b'])?.changed).toBe(false);
    expect(nextTrust(first ?? undefined, ['1:z'])?.changed).toBe(true);
  });

  it('warns of any new or removed device for a verified contact', () => {
    const verified = { keys: ['1:a'], verifiedKeys: ['1:a'], changed: false };
    expect(nextTrust(verified, ['1:a', '2:b'])).toEqual({ keys: ['1:a', '2:b'], verifiedKeys: ['1:a'], changed: true });
  });
});

beforeAll(() => initCrypto());

describe('Trust', () => {
  it('observes device lists, keeps what it saw, and shows it', async () => {
    const store = memoryStore();
    const stores = store.cryptoStores(IdentityKeyPair.generate(), 1);
    const state = createState();
    const trust = new Trust({ store, state, userId: 'alice', devicesOf: async () => [], stores });
    await trust.observe('bob', [{ deviceId: 1, identityKey: 'a', registrationId: 1, postQuantum: false }]);
    await trust.observe('bob', [{ deviceId: 1, identityKey: 'b', registrationId: 1, postQuantum: false }]);
    expect(state.trust.value.bob).toEqual({ verified: false, identityChanged: true });
    await trust.acknowledgeIdentityChange('bob');
    expect(state.trust.value.bob?.identityChanged).toBe(false);
    const again = new Trust({ store, state: createState(), userId: 'alice', devicesOf: async () => [], stores });
    await again.load();
    expect(await store.trustOf('bob')).toEqual({ keys: ['1:b'], verifiedKeys: null, changed: false });
  });
});
