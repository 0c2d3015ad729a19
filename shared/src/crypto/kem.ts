/**
 * ML-KEM-1024 (FIPS 203), the post-quantum KEM of PQXDH, from `@noble/post-quantum` (audited, pure
 * JavaScript, runtime-neutral). Serialised public keys and ciphertexts carry libsignal's one-byte KEM type
 * prefix (0x08, the type libsignal's ML-KEM-1024 keys keep), so the signature over a PQ prekey covers the
 * parameter set as well as the key.
 */
import { ml_kem1024 } from '@noble/post-quantum/ml-kem.js';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { randomBytes } from './sodium.ts';

export const KEM_PARAMETER_SET = 'ML-KEM-1024';
/** libsignal's KEM key type byte for its 1024 parameter set. */
export const KEY_TYPE_ML_KEM_1024 = 0x08;
export const KEM_PUBLIC_KEY_BYTES = 1568;
export const KEM_SECRET_KEY_BYTES = 3168;
export const KEM_CIPHERTEXT_BYTES = 1568;
export const KEM_SHARED_SECRET_BYTES = 32;
/** FIPS 203 key generation seed d || z. */
export const KEM_SEED_BYTES = 64;
/** FIPS 203 encapsulation randomness m. */
export const KEM_MESSAGE_BYTES = 32;
export const SERIALIZED_KEM_PUBLIC_KEY_BYTES = 1 + KEM_PUBLIC_KEY_BYTES;
export const SERIALIZED_KEM_CIPHERTEXT_BYTES = 1 + KEM_CIPHERTEXT_BYTES;

function invalidKey(message: string, cause?: unknown): CryptoError {
  return new CryptoError(CryptoErrorCode.InvalidKey, message, { cause });
}

function typed(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + bytes.length);
  out[0] = KEY_TYPE_ML_KEM_1024;
  out.set(bytes, 1);
  return out;
}

function untyped(bytes: Uint8Array, length: number, what: string, code: CryptoErrorCode): Uint8Array {
  if (bytes.length !== length + 1) {
    throw new CryptoError(code, `${what} must be ${length + 1} bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== KEY_TYPE_ML_KEM_1024) throw new CryptoError(code, `unknown KEM type ${bytes[0]}`);
  return bytes.slice(1);
}

export interface Encapsulation {
  /** The serialised ciphertext (type byte + 1,568 bytes) that travels to the key's owner. */
  ciphertext: Uint8Array;
  sharedSecret: Uint8Array;
}

/** An ML-KEM-1024 encapsulation key. */
export class KemPublicKey {
  readonly #bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /**
   * From the serialised form (0x08 then the 1,568-byte key); runs FIPS 203's encapsulation key check
   * (every coefficient below q), so a key that parses can be encapsulated to.
   */
  static deserialize(bytes: Uint8Array): KemPublicKey {
    const raw = untyped(bytes, KEM_PUBLIC_KEY_BYTES, 'serialised ML-KEM public key', CryptoErrorCode.InvalidKey);
    try {
      ml_kem1024.prepare(raw).clean();
    } catch (cause) {
      throw invalidKey('ML-KEM public key fails the FIPS 203 modulus check', cause);
    }
    return new KemPublicKey(raw);
  }

  /** From raw bytes this library wrote itself (key records): no modulus check. */
  static fromRaw(bytes: Uint8Array): KemPublicKey {
    if (bytes.length !== KEM_PUBLIC_KEY_BYTES) throw invalidKey(`ML-KEM public key must be ${KEM_PUBLIC_KEY_BYTES}`);
    return new KemPublicKey(bytes.slice());
  }

  serialize(): Uint8Array {
    return typed(this.#bytes);
  }

  raw(): Uint8Array {
    return this.#bytes.slice();
  }

  /** Encapsulates a fresh shared secret; `message` (32 bytes) only for known-answer tests. */
  encapsulate(message: Uint8Array = randomBytes(KEM_MESSAGE_BYTES)): Encapsulation {
    try {
      const { cipherText, sharedSecret } = ml_kem1024.encapsulate(this.#bytes, message);
      return { ciphertext: typed(cipherText), sharedSecret };
    } catch (cause) {
      throw invalidKey('ML-KEM encapsulation failed', cause);
    }
  }
}

/** An ML-KEM-1024 key pair. */
export class KemKeyPair {
  readonly publicKey: KemPublicKey;
  readonly #secretKey: Uint8Array;

  private constructor(publicKey: KemPublicKey, secretKey: Uint8Array) {
    this.publicKey = publicKey;
    this.#secretKey = secretKey;
  }

  static generate(): KemKeyPair {
    return KemKeyPair.fromSeed(randomBytes(KEM_SEED_BYTES));
  }

  /** FIPS 203 ML-KEM.KeyGen_internal(d, z) with `seed` = d || z: deterministic, for known-answer tests. */
  static fromSeed(seed: Uint8Array): KemKeyPair {
    if (seed.length !== KEM_SEED_BYTES) throw invalidKey(`ML-KEM seed must be ${KEM_SEED_BYTES} bytes`);
    const { publicKey, secretKey } = ml_kem1024.keygen(seed);
    return new KemKeyPair(KemPublicKey.fromRaw(publicKey), secretKey);
  }

  /** From the 3,168-byte decapsulation key (which embeds the public key), as stored by this library. */
  static fromSecretKey(secretKey: Uint8Array): KemKeyPair {
    if (secretKey.length !== KEM_SECRET_KEY_BYTES) {
      throw invalidKey(`ML-KEM secret key must be ${KEM_SECRET_KEY_BYTES} bytes`);
    }
    let publicKey: Uint8Array;
    try {
      publicKey = ml_kem1024.getPublicKey(secretKey);
    } catch (cause) {
      throw invalidKey('malformed ML-KEM secret key', cause);
    }
    return new KemKeyPair(KemPublicKey.fromRaw(publicKey), secretKey.slice());
  }

  /** The decapsulation key: only for storage. */
  secretKeyBytes(): Uint8Array {
    return this.#secretKey.slice();
  }

  /**
   * The shared secret of a serialised ciphertext. ML-KEM rejects implicitly: a tampered ciphertext yields an
   * unrelated secret (and so a failed decryption later), never an error that tells the sender which bit broke.
   */
  decapsulate(ciphertext: Uint8Array): Uint8Array {
    const raw = untyped(ciphertext, KEM_CIPHERTEXT_BYTES, 'ML-KEM ciphertext', CryptoErrorCode.InvalidMessage);
    return ml_kem1024.decapsulate(raw, this.#secretKey);
  }
}
