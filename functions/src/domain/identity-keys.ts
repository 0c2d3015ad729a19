import { IdentityKey, initCrypto, KemPublicKey, PublicKey } from '@ciphertalk/shared/crypto';

/**
 * Key checks the server makes before publishing keys in the directory, with the E2E library's own
 * parsers (`@ciphertalk/shared/crypto`, libsodium): the identity key must be a 0x65-tagged Ed25519 point,
 * prekeys 0x05-tagged X25519 keys, and the signed prekey's signature must verify with the identity key
 * over the prekey's 33-byte serialised form; ML-KEM prekeys (PQXDH) must be 0x08-tagged ML-KEM-1024 keys that
 * pass FIPS 203's modulus check, signed the same way over their 1,569-byte form. The server cannot judge whether a key is honest (that is
 * what safety numbers are for), only that it is well-formed and signed by the identity it comes with.
 */
/** True when `signature` is the identity key's over the key's serialised form, after parsing both. */
async function verifySigned(
  identityKey: Uint8Array,
  key: Uint8Array,
  signature: Uint8Array,
  parse: (bytes: Uint8Array) => { serialize(): Uint8Array },
): Promise<boolean> {
  await initCrypto();
  try {
    return IdentityKey.deserialize(identityKey).verify(parse(key).serialize(), signature);
  } catch {
    return false;
  }
}

export async function verifySignedPreKey(
  identityKey: Uint8Array,
  signedPreKey: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return verifySigned(identityKey, signedPreKey, signature, PublicKey.deserialize);
}

/** A PQXDH prekey: a well-formed ML-KEM-1024 key, signed by `identityKey` over its serialised form. */
export async function verifySignedPqPreKey(
  identityKey: Uint8Array,
  pqPreKey: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  return verifySigned(identityKey, pqPreKey, signature, KemPublicKey.deserialize);
}

export async function isPublicPreKey(bytes: Uint8Array): Promise<boolean> {
  await initCrypto();
  try {
    PublicKey.deserialize(bytes);
    return true;
  } catch {
    return false;
  }
}
