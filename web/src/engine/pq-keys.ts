/**
 * PQXDH in the engine: this device's ML-KEM prekeys (a signed last-resort one and batches of signed one-time
 * ones) kept in the local store and published to the key directory, and the start of a session from a claimed
 * bundle, refusing a bundle without a PQ prekey from a device known to have published one (no silent
 * downgrade). The crypto is in `@ciphertalk/shared/crypto`; this module only stores, uploads and remembers.
 */
import {
  generatePqPreKeys,
  type IdentityKeyPair,
  KemPublicKey,
  PqPreKeyRecord,
  type PreKeyBundleFields,
  type ProtocolAddress,
  type ProtocolStores,
  processPreKeyBundle,
  SessionCipher,
  type SessionKind,
} from '@ciphertalk/shared/crypto';
import type {
  Device,
  PreKeyBundle as PreKeyBundleJson,
  PublicDevice,
  SignedPqPreKey,
} from '@ciphertalk/shared/protocol';
import type { ApiClient } from './api-client.ts';
import { fromBase64, toBase64 } from './base64.ts';
import type { LocalStore } from './local-store.ts';

export const PQ_PREKEY_BATCH = 100;
export const PQ_PREKEY_LOW_WATER = 25;

const json = (record: PqPreKeyRecord): SignedPqPreKey => ({
  keyId: record.id,
  publicKey: toBase64(record.keyPair.publicKey.serialize()),
  signature: toBase64(record.signature),
});

/**
 * The PQ fields of `POST /devices` for a new device: a last-resort key and a first batch, stored before they
 * are published (a failed registration is retried with fresh ones, like the classical prekeys).
 */
export async function pqRegistration(
  store: LocalStore,
  identity: IdentityKeyPair,
): Promise<{ pqLastResortPreKey: SignedPqPreKey; pqPreKeys: SignedPqPreKey[] }> {
  const lastResort = PqPreKeyRecord.generate(1, identity, { lastResort: true });
  const batch = generatePqPreKeys(identity, 2, PQ_PREKEY_BATCH);
  await store.savePqKeys({ nextId: 2 + PQ_PREKEY_BATCH, lastResortId: lastResort.id }, [lastResort, ...batch]);
  return { pqLastResortPreKey: json(lastResort), pqPreKeys: batch.map(json) };
}

/**
 * Keeps this device's PQ prekeys published: the first last-resort key of a device registered before PQXDH
 * (its upgrade), a fresh one once it is stale (the old one stays: sessions from it may still arrive), and a
 * new batch of one-time keys when the directory runs low. `current` is this device's row of `GET /devices`.
 */
export async function maintainPqPreKeys(
  api: ApiClient,
  store: LocalStore,
  stores: Pick<ProtocolStores, 'pqPreKeys'>,
  identity: IdentityKeyPair,
  current: Device,
): Promise<void> {
  const path = { deviceId: current.deviceId };
  let ids = await store.pqKeys();
  const lastResort = ids ? await stores.pqPreKeys.loadPqPreKey(ids.lastResortId) : undefined;
  if (!current.postQuantum || ids === undefined || lastResort === undefined || lastResort.isStale()) {
    const nextId = ids?.nextId ?? 1;
    const fresh = PqPreKeyRecord.generate(nextId, identity, { lastResort: true });
    ids = { nextId: nextId + 1, lastResortId: fresh.id };
    await store.savePqKeys(ids, [fresh]);
    await api.call('PUT /devices/{deviceId}/pq-last-resort-prekey', {
      path,
      body: { pqLastResortPreKey: json(fresh) },
    });
  }
  if (current.postQuantum && current.pqPreKeysRemaining >= PQ_PREKEY_LOW_WATER) return;
  const batch = generatePqPreKeys(identity, ids.nextId, PQ_PREKEY_BATCH);
  await store.savePqKeys({ ...ids, nextId: ids.nextId + PQ_PREKEY_BATCH }, batch);
  await api.call('POST /devices/{deviceId}/pq-prekeys', { path, body: { pqPreKeys: batch.map(json) } });
}

/** The PQ fields of a bundle from the directory, for `PreKeyBundle.create`. */
export function pqBundleFields(
  bundle: PreKeyBundleJson,
): Pick<PreKeyBundleFields, 'pqPreKeyId' | 'pqPreKey' | 'pqPreKeySignature'> {
  const pq = bundle.pqPreKey;
  if (pq === null) return {};
  return {
    pqPreKeyId: pq.keyId,
    pqPreKey: KemPublicKey.deserialize(fromBase64(pq.publicKey)),
    pqPreKeySignature: fromBase64(pq.signature),
  };
}

/** Remembers which of a user's devices published an ML-KEM prekey, as the directory lists them. */
export async function rememberPostQuantumDevices(
  store: LocalStore,
  userId: string,
  devices: readonly PublicDevice[],
): Promise<void> {
  for (const device of devices) {
    if (device.postQuantum) await store.setPostQuantum(`${userId}.${device.deviceId}`);
  }
}

/**
 * Starts a session from a claimed bundle: PQXDH when it has an ML-KEM prekey. A bundle without one from a
 * device that published one is refused (`PostQuantumDowngrade`), whatever the directory says now.
 */
export async function startSession(
  store: LocalStore,
  stores: ProtocolStores,
  address: ProtocolAddress,
  bundle: Parameters<typeof processPreKeyBundle>[2],
): Promise<void> {
  const requirePostQuantum = await store.isPostQuantum(address.toString());
  await processPreKeyBundle(stores, address, bundle, { requirePostQuantum });
  if (bundle.postQuantum && !requirePostQuantum) await store.setPostQuantum(address.toString());
}

/** The kind of each current session with `addresses`, for the conversation's security information. */
export async function sessionKinds(
  stores: ProtocolStores,
  addresses: readonly ProtocolAddress[],
): Promise<{ deviceId: number; kind: SessionKind | 'none' }[]> {
  const kinds = [];
  for (const address of addresses) {
    const kind = await new SessionCipher(stores, address).sessionKind();
    kinds.push({ deviceId: address.deviceId, kind: kind ?? ('none' as const) });
  }
  return kinds;
}
