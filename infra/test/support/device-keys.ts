import { generatePreKeys, IdentityKeyPair, initCrypto, SignedPreKeyRecord } from '@ciphertalk/shared/crypto';

/** Real device keys from the E2E library, in the shapes the REST API takes (base64 of serialised forms). */
export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

export async function deviceKeys(options: { preKeyStart?: number; preKeys?: number; signedPreKeyId?: number } = {}) {
  await initCrypto();
  const identity = IdentityKeyPair.generate();
  const signed = SignedPreKeyRecord.generate(options.signedPreKeyId ?? 1, identity);
  const preKeys = generatePreKeys(options.preKeyStart ?? 1, options.preKeys ?? 5);
  return {
    identity,
    signedPreKeyRecord: signed,
    body: (name = 'Laptop') => ({
      name,
      registrationId: 4242,
      identityKey: b64(identity.publicKey.serialize()),
      signedPreKey: signedPreKeyJson(signed),
      preKeys: preKeys.map((p) => ({ keyId: p.id, publicKey: b64(p.keyPair.publicKey.serialize()) })),
    }),
  };
}

export const signedPreKeyJson = (record: SignedPreKeyRecord) => ({
  keyId: record.id,
  publicKey: b64(record.keyPair.publicKey.serialize()),
  signature: b64(record.signature),
});

export async function preKeysJson(start: number, count: number) {
  await initCrypto();
  return generatePreKeys(start, count).map((p) => ({ keyId: p.id, publicKey: b64(p.keyPair.publicKey.serialize()) }));
}
