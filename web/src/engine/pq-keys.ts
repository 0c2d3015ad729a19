/**
 * PQXDH in the engine: this device's ML-KEM prekeys (a signed last-resort one and batches of signed one-time
 * ones) kept in IndexedDB and published to the key directory, and the start of a session from a claimed
 * bundle, refusing a bundle without a PQ prekey from a device known to have published one (no silent
 * downgrade). The crypto is in `@ciphertalk/shared/crypto`; this module only stores, uploads and remembers.
 */
import {
  generatePqPreKeys,
  type IdentityKeyPair,
  KemPublicKey,
  lastResortUseKey,
  PqPreKeyRecord,
  type PqPreKeyStore,
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
import { fromBase64, toBase64 } from './base64.ts';
import type { Api } from './http.ts';
import { type Idb, STORES } from './idb.ts';

const PQ_PREKEY_BATCH = 100;
const PQ_PREKEY_LOW_WATER = 25;
/** PQ prekey records share the prekey store under string keys, which never meet its numeric ones. */
const recordKey = (id: number) => `pq:${id}`;
const META_KEY = 'pq';
/** Per remote device: it has published an ML-KEM prekey, so a bundle of it must carry one. */
const capableKey = (address: string) => `pq-capable:${address}`;

interface PqMeta {
  nextId: number;
  lastResortId: number;
}

/** The {@link PqPreKeyStore} port over IndexedDB. */
export class IdbPqPreKeyStore implements PqPreKeyStore {
  constructor(private readonly db: Idb) {}
  async loadPqPreKey(id: number): Promise<PqPreKeyRecord | undefined> {
    const bytes = await this.db.get<Uint8Array>(STORES.preKeys, recordKey(id));
    return bytes === undefined ? undefined : PqPreKeyRecord.deserialize(bytes);
  }
  async storePqPreKey(id: number, record: PqPreKeyRecord): Promise<void> {
    await this.db.put(STORES.preKeys, record.serialize(), recordKey(id));
  }
  async markPqPreKeyUsed(id: number, signedPreKeyId: number, baseKey: Uint8Array): Promise<boolean> {
    const record = await this.loadPqPreKey(id);
    if (record === undefined) return true;
    if (!record.lastResort) {
      await this.db.delete(STORES.preKeys, recordKey(id));
      return true;
    }
    const use = `pq-used:${lastResortUseKey(id, signedPreKeyId, baseKey)}`;
    if ((await this.db.get<boolean>(STORES.meta, use)) === true) return false;
    await this.db.put(STORES.meta, true, use);
    return true;
  }
}

const json = (record: PqPreKeyRecord): SignedPqPreKey => ({
  keyId: record.id,
  publicKey: toBase64(record.keyPair.publicKey.serialize()),
  signature: toBase64(record.signature),
});

/** Stores the records and the id counter in one transaction: keys first, publication second. */
async function keep(db: Idb, meta: PqMeta, records: readonly PqPreKeyRecord[]): Promise<void> {
  await db.write([STORES.meta, STORES.preKeys], (put) => {
    put(STORES.meta, meta, META_KEY);
    for (const record of records) put(STORES.preKeys, record.serialize(), recordKey(record.id));
  });
}

/**
 * The PQ fields of `POST /devices` for a new device: a last-resort key and a first batch, stored before they
 * are published (a failed registration is retried with fresh ones, like the classical prekeys).
 */
export async function pqRegistration(
  db: Idb,
  identity: IdentityKeyPair,
): Promise<{ pqLastResortPreKey: SignedPqPreKey; pqPreKeys: SignedPqPreKey[] }> {
  const lastResort = PqPreKeyRecord.generate(1, identity, { lastResort: true });
  const batch = generatePqPreKeys(identity, 2, PQ_PREKEY_BATCH);
  await keep(db, { nextId: 2 + PQ_PREKEY_BATCH, lastResortId: lastResort.id }, [lastResort, ...batch]);
  return { pqLastResortPreKey: json(lastResort), pqPreKeys: batch.map(json) };
}

/**
 * Keeps this device's PQ prekeys published: the first last-resort key of a device registered before PQXDH
 * (its upgrade), a fresh one once it is stale (the old one stays: sessions from it may still arrive), and a
 * new batch of one-time keys when the directory runs low. `current` is this device's row of `GET /devices`.
 */
export async function maintainPqPreKeys(api: Api, db: Idb, identity: IdentityKeyPair, current: Device): Promise<void> {
  const base = `/devices/${current.deviceId}`;
  let meta = await db.get<PqMeta>(STORES.meta, META_KEY);
  const lastResort = meta ? await new IdbPqPreKeyStore(db).loadPqPreKey(meta.lastResortId) : undefined;
  if (!current.postQuantum || meta === undefined || lastResort === undefined || lastResort.isStale()) {
    const nextId = meta?.nextId ?? 1;
    const fresh = PqPreKeyRecord.generate(nextId, identity, { lastResort: true });
    meta = { nextId: nextId + 1, lastResortId: fresh.id };
    await keep(db, meta, [fresh]);
    await api.request('PUT', `${base}/pq-last-resort-prekey`, { pqLastResortPreKey: json(fresh) });
  }
  if (current.postQuantum && current.pqPreKeysRemaining >= PQ_PREKEY_LOW_WATER) return;
  const batch = generatePqPreKeys(identity, meta.nextId, PQ_PREKEY_BATCH);
  await keep(db, { ...meta, nextId: meta.nextId + PQ_PREKEY_BATCH }, batch);
  await api.post(`${base}/pq-prekeys`, { pqPreKeys: batch.map(json) });
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
export async function rememberPostQuantumDevices(db: Idb, userId: string, devices: readonly PublicDevice[]) {
  for (const device of devices) {
    if (device.postQuantum) await db.put(STORES.meta, true, capableKey(`${userId}.${device.deviceId}`));
  }
}

/**
 * Starts a session from a claimed bundle: PQXDH when it has an ML-KEM prekey. A bundle without one from a
 * device that published one is refused (`PostQuantumDowngrade`), whatever the directory says now.
 */
export async function startSession(
  db: Idb,
  stores: ProtocolStores,
  address: ProtocolAddress,
  bundle: Parameters<typeof processPreKeyBundle>[2],
): Promise<void> {
  const requirePostQuantum = (await db.get<boolean>(STORES.meta, capableKey(address.toString()))) === true;
  await processPreKeyBundle(stores, address, bundle, { requirePostQuantum });
  if (bundle.postQuantum) await db.put(STORES.meta, true, capableKey(address.toString()));
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
