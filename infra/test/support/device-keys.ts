import {
  generatePqPreKeys,
  generatePreKeys,
  IdentityKeyPair,
  initCrypto,
  PqPreKeyRecord,
  SignedPreKeyRecord,
} from '@ciphertalk/shared/crypto';

/** Real device keys from the E2E library, in the shapes the REST API takes (base64 of serialised forms). */
export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/**
 * Keys of one device. With `pqPreKeys` (a count, 0 allowed) it also publishes a last-resort ML-KEM prekey
 * (id 1000) and that many one-time ones (ids 1..n): a PQXDH device; without, a classical one.
 */
export async function deviceKeys(
  options: { preKeyStart?: number; preKeys?: number; signedPreKeyId?: number; pqPreKeys?: number } = {},
) {
  await initCrypto();
  const identity = IdentityKeyPair.generate();
  const signed = SignedPreKeyRecord.generate(options.signedPreKeyId ?? 1, identity);
  const preKeys = generatePreKeys(options.preKeyStart ?? 1, options.preKeys ?? 5);
  const pq = options.pqPreKeys !== undefined;
  const lastResort = pq ? PqPreKeyRecord.generate(1000, identity, { lastResort: true }) : undefined;
  const pqPreKeys = pq ? generatePqPreKeys(identity, 1, options.pqPreKeys ?? 0) : [];
  return {
    identity,
    signedPreKeyRecord: signed,
    lastResort,
    pqPreKeys,
    body: (name = 'Laptop') => ({
      name,
      registrationId: 4242,
      identityKey: b64(identity.publicKey.serialize()),
      signedPreKey: signedPreKeyJson(signed),
      preKeys: preKeys.map((p) => ({ keyId: p.id, publicKey: b64(p.keyPair.publicKey.serialize()) })),
      ...(lastResort ? { pqLastResortPreKey: pqPreKeyJson(lastResort), pqPreKeys: pqPreKeys.map(pqPreKeyJson) } : {}),
    }),
  };
}

export const pqPreKeyJson = (record: PqPreKeyRecord) => ({
  keyId: record.id,
  publicKey: b64(record.keyPair.publicKey.serialize()),
  signature: b64(record.signature),
});

export const signedPreKeyJson = (record: SignedPreKeyRecord) => ({
  keyId: record.id,
  publicKey: b64(record.keyPair.publicKey.serialize()),
  signature: b64(record.signature),
});

export async function preKeysJson(start: number, count: number) {
  await initCrypto();
  return generatePreKeys(start, count).map((p) => ({ keyId: p.id, publicKey: b64(p.keyPair.publicKey.serialize()) }));
}
