import {
  IdentityKeyPair,
  InMemorySenderKeyStore,
  inMemoryProtocolStores,
  PqPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  ProtocolAddress,
  SignedPreKeyRecord,
} from '../../src/crypto/index.ts';

let nextRegistrationId = 1;

/** Which ML-KEM prekey a test bundle carries: a one-time one, the last-resort one, or none (classical X3DH). */
export type BundlePq = 'one-time' | 'last-resort' | 'none';

/** The id of every test device's last-resort PQ prekey (one-time ones are 1..n). */
export const LAST_RESORT_PQ_ID = 1000;

/**
 * One device with in-memory stores, one signed prekey (id 1), `preKeyCount` one-time prekeys (ids 1..n),
 * as many signed one-time ML-KEM prekeys (ids 1..n) and a last-resort ML-KEM prekey ({@link LAST_RESORT_PQ_ID}).
 */
export async function makeDevice(name: string, deviceId = 1, preKeyCount = 5) {
  const identity = IdentityKeyPair.generate();
  const registrationId = nextRegistrationId++;
  const stores = inMemoryProtocolStores(identity, registrationId);
  const address = ProtocolAddress.of(name, deviceId);
  const signedPreKey = SignedPreKeyRecord.generate(1, identity);
  await stores.signedPreKeys.storeSignedPreKey(signedPreKey.id, signedPreKey);
  const preKeys: PreKeyRecord[] = [];
  for (let id = 1; id <= preKeyCount; id++) {
    const preKey = PreKeyRecord.generate(id);
    preKeys.push(preKey);
    await stores.preKeys.storePreKey(id, preKey);
  }
  const pqPreKeys: PqPreKeyRecord[] = [];
  for (let id = 1; id <= preKeyCount; id++) {
    const pqPreKey = PqPreKeyRecord.generate(id, identity);
    pqPreKeys.push(pqPreKey);
    await stores.pqPreKeys.storePqPreKey(id, pqPreKey);
  }
  const lastResort = PqPreKeyRecord.generate(LAST_RESORT_PQ_ID, identity, { lastResort: true });
  await stores.pqPreKeys.storePqPreKey(lastResort.id, lastResort);
  let nextPreKey = 0;
  let nextPqPreKey = 0;
  const device = {
    address,
    identity,
    registrationId,
    stores,
    senderKeys: new InMemorySenderKeyStore(),
    signedPreKey,
    pqPreKeys,
    lastResort,
    /**
     * A bundle as the directory would hand it out, consuming a one-time prekey unless `withPreKey` is false,
     * and by default a one-time ML-KEM prekey (a PQXDH bundle).
     */
    bundle(withPreKey = true, pq: BundlePq = 'one-time'): PreKeyBundle {
      const preKey = withPreKey ? preKeys[nextPreKey++] : undefined;
      const pqPreKey = pq === 'one-time' ? pqPreKeys[nextPqPreKey++] : pq === 'last-resort' ? lastResort : undefined;
      return PreKeyBundle.create({
        registrationId,
        deviceId,
        identityKey: identity.publicKey,
        signedPreKeyId: signedPreKey.id,
        signedPreKey: signedPreKey.keyPair.publicKey,
        signedPreKeySignature: signedPreKey.signature,
        preKeyId: preKey?.id,
        preKey: preKey?.keyPair.publicKey,
        pqPreKeyId: pqPreKey?.id,
        pqPreKey: pqPreKey?.keyPair.publicKey,
        pqPreKeySignature: pqPreKey?.signature,
      });
    },
  };
  return device;
}

export type Device = Awaited<ReturnType<typeof makeDevice>>;

export function text(value: string): Uint8Array {
  return new Uint8Array([...value].map((c) => c.charCodeAt(0)));
}

export function str(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

export function hex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export function unhex(value: string): Uint8Array {
  const out = new Uint8Array(value.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(value.slice(i * 2, i * 2 + 2), 16);
  return out;
}
