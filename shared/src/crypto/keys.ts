/**
 * Keys: X25519 key pairs for Diffie-Hellman, the Ed25519 identity key of a device, one-time and signed
 * prekeys, and the prekey bundle the key directory hands out.
 *
 * Deviation from libsignal: libsignal's identity key is a single Curve25519 key that signs with XEdDSA.
 * libsodium has no XEdDSA, so the identity is an Ed25519 key pair that signs natively and is mapped to
 * X25519 (crypto_sign_ed25519_{pk,sk}_to_curve25519) for the X3DH agreements. Serialised public keys keep
 * libsignal's one-byte type prefix: 0x05 for X25519, 0x65 for Ed25519 (our own tag).
 */
import { ByteReader, ByteWriter, readVersion } from './encoding.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { KEM_SECRET_KEY_BYTES, KemKeyPair, KemPublicKey, SERIALIZED_KEM_PUBLIC_KEY_BYTES } from './kem.ts';
import { constantTimeEqual, randomBytes, sodium } from './sodium.ts';

export const X25519_PUBLIC_KEY_BYTES = 32;
export const X25519_PRIVATE_KEY_BYTES = 32;
export const X25519_SHARED_SECRET_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SEED_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
/** libsignal's "DJB" type byte for a Curve25519 public key. */
export const KEY_TYPE_X25519 = 0x05;
/** Our type byte for an Ed25519 identity public key. */
export const KEY_TYPE_ED25519 = 0x65;
export const SERIALIZED_PUBLIC_KEY_BYTES = 1 + X25519_PUBLIC_KEY_BYTES;
export const SERIALIZED_IDENTITY_KEY_BYTES = 1 + ED25519_PUBLIC_KEY_BYTES;

/** Version byte of the key records below (storage and key-directory formats). */
export const KEY_RECORD_VERSION = 1;
/** Version 2 of the prekey bundle adds the signed ML-KEM prekey of PQXDH. */
export const PRE_KEY_BUNDLE_VERSION = 2;
/** Signal rotates the signed prekey every few days; clients should call `isStale` on start-up. */
export const SIGNED_PRE_KEY_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

function invalidKey(message: string, cause?: unknown): CryptoError {
  return new CryptoError(CryptoErrorCode.InvalidKey, message, { cause });
}

function checkLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length) throw invalidKey(`${what} must be ${length} bytes, got ${bytes.length}`);
}

/** X25519 Diffie-Hellman; rejects low-order public keys (an all-zero shared secret). */
export function x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  try {
    return sodium().crypto_scalarmult(privateKey, publicKey);
  } catch (cause) {
    throw invalidKey('X25519 agreement with a low-order or malformed public key', cause);
  }
}

/** An X25519 public key (ratchet keys, prekeys, base keys). */
export class PublicKey {
  readonly #bytes: Uint8Array;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** From the 32 raw key bytes. */
  static fromRaw(bytes: Uint8Array): PublicKey {
    checkLength(bytes, X25519_PUBLIC_KEY_BYTES, 'X25519 public key');
    return new PublicKey(bytes.slice());
  }

  /** From the 33-byte form: type 0x05 then the key. */
  static deserialize(bytes: Uint8Array): PublicKey {
    checkLength(bytes, SERIALIZED_PUBLIC_KEY_BYTES, 'serialised X25519 public key');
    if (bytes[0] !== KEY_TYPE_X25519) throw invalidKey(`unknown public key type ${bytes[0]}`);
    return new PublicKey(bytes.slice(1));
  }

  serialize(): Uint8Array {
    const out = new Uint8Array(SERIALIZED_PUBLIC_KEY_BYTES);
    out[0] = KEY_TYPE_X25519;
    out.set(this.#bytes, 1);
    return out;
  }

  /** The 32 raw key bytes (a copy). */
  raw(): Uint8Array {
    return this.#bytes.slice();
  }

  equals(other: PublicKey): boolean {
    return constantTimeEqual(this.#bytes, other.#bytes);
  }
}

/** An X25519 key pair. */
export class KeyPair {
  readonly publicKey: PublicKey;
  readonly #privateKey: Uint8Array;

  private constructor(publicKey: PublicKey, privateKey: Uint8Array) {
    this.publicKey = publicKey;
    this.#privateKey = privateKey;
  }

  /**
   * A fresh key pair: 32 random bytes (clamped by X25519 itself) and the fixed-base multiplication. Cheaper in
   * libsodium.js than crypto_box_keypair, whose randomness goes through the slow wrapper RNG (see randomBytes).
   */
  static generate(): KeyPair {
    const privateKey = randomBytes(X25519_PRIVATE_KEY_BYTES);
    return new KeyPair(PublicKey.fromRaw(sodium().crypto_scalarmult_base(privateKey)), privateKey);
  }

  /** From a raw 32-byte private key (the public key is recomputed). */
  static fromPrivate(privateKey: Uint8Array): KeyPair {
    checkLength(privateKey, X25519_PRIVATE_KEY_BYTES, 'X25519 private key');
    return new KeyPair(PublicKey.fromRaw(sodium().crypto_scalarmult_base(privateKey)), privateKey.slice());
  }

  /** From stored raw halves, without recomputing the public key (storage formats written by this library). */
  static fromStored(publicKey: Uint8Array, privateKey: Uint8Array): KeyPair {
    checkLength(privateKey, X25519_PRIVATE_KEY_BYTES, 'X25519 private key');
    return new KeyPair(PublicKey.fromRaw(publicKey), privateKey.slice());
  }

  /** The 32-byte private key: only for storage. */
  privateKeyBytes(): Uint8Array {
    return this.#privateKey.slice();
  }

  agree(theirs: PublicKey): Uint8Array {
    return x25519(this.#privateKey, theirs.raw());
  }

  /** Agreement with a raw 32-byte public key. */
  agreeRaw(theirs: Uint8Array): Uint8Array {
    return x25519(this.#privateKey, theirs);
  }
}

/** The long-term public identity of a device: an Ed25519 key, also usable for X25519 after conversion. */
export class IdentityKey {
  readonly #bytes: Uint8Array;
  #x25519: Uint8Array | undefined;

  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /**
   * From the 32 raw Ed25519 bytes as kept in this library's own session records. The point is checked
   * lazily (on first `x25519()`); bytes from the network go through {@link deserialize}, which checks at once.
   */
  static fromRaw(bytes: Uint8Array): IdentityKey {
    checkLength(bytes, ED25519_PUBLIC_KEY_BYTES, 'Ed25519 identity key');
    return new IdentityKey(bytes.slice());
  }

  /** From the 33-byte form (type 0x65 then the key); rejects bytes that are not a curve point. */
  static deserialize(bytes: Uint8Array): IdentityKey {
    checkLength(bytes, SERIALIZED_IDENTITY_KEY_BYTES, 'serialised identity key');
    if (bytes[0] !== KEY_TYPE_ED25519) throw invalidKey(`unknown identity key type ${bytes[0]}`);
    const key = IdentityKey.fromRaw(bytes.subarray(1));
    key.x25519();
    return key;
  }

  serialize(): Uint8Array {
    const out = new Uint8Array(SERIALIZED_IDENTITY_KEY_BYTES);
    out[0] = KEY_TYPE_ED25519;
    out.set(this.#bytes, 1);
    return out;
  }

  raw(): Uint8Array {
    return this.#bytes.slice();
  }

  /** The X25519 form of this key, for X3DH. */
  x25519(): Uint8Array {
    if (this.#x25519 === undefined) {
      try {
        this.#x25519 = sodium().crypto_sign_ed25519_pk_to_curve25519(this.#bytes);
      } catch (cause) {
        throw invalidKey('identity key is not a valid Ed25519 point', cause);
      }
    }
    return this.#x25519;
  }

  verify(message: Uint8Array, signature: Uint8Array): boolean {
    if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
    return sodium().crypto_sign_verify_detached(signature, message, this.#bytes);
  }

  equals(other: IdentityKey): boolean {
    return constantTimeEqual(this.#bytes, other.#bytes);
  }
}

/** A device's identity key pair. Only its public half ever leaves the device. */
export class IdentityKeyPair {
  readonly publicKey: IdentityKey;
  readonly #seed: Uint8Array;
  readonly #signingKey: Uint8Array;
  readonly #x25519Private: Uint8Array;

  private constructor(seed: Uint8Array) {
    const s = sodium();
    const { publicKey, privateKey } = s.crypto_sign_seed_keypair(seed);
    this.publicKey = IdentityKey.fromRaw(publicKey);
    this.#seed = seed;
    this.#signingKey = privateKey;
    this.#x25519Private = s.crypto_sign_ed25519_sk_to_curve25519(privateKey);
  }

  static generate(): IdentityKeyPair {
    return new IdentityKeyPair(randomBytes(ED25519_SEED_BYTES));
  }

  /** Storage form: version, then the 32-byte Ed25519 seed. Keep it in the device's key store only. */
  serialize(): Uint8Array {
    return new ByteWriter(1 + ED25519_SEED_BYTES).u8(KEY_RECORD_VERSION).fixed(this.#seed).finish();
  }

  static deserialize(bytes: Uint8Array): IdentityKeyPair {
    const reader = new ByteReader(bytes, CryptoErrorCode.InvalidKey);
    readVersion(reader, 'identity key pair', KEY_RECORD_VERSION);
    const seed = reader.fixed(ED25519_SEED_BYTES);
    reader.end();
    return new IdentityKeyPair(seed);
  }

  sign(message: Uint8Array): Uint8Array {
    return sodium().crypto_sign_detached(message, this.#signingKey);
  }

  /** X25519 agreement between this identity (converted) and `theirs`. */
  agree(theirs: Uint8Array): Uint8Array {
    return x25519(this.#x25519Private, theirs);
  }
}

/** A one-time prekey: used for at most one X3DH, then deleted by the receiver. */
export class PreKeyRecord {
  readonly id: number;
  readonly keyPair: KeyPair;

  private constructor(id: number, keyPair: KeyPair) {
    this.id = id;
    this.keyPair = keyPair;
  }

  static generate(id: number): PreKeyRecord {
    return new PreKeyRecord(checkKeyId(id), KeyPair.generate());
  }

  serialize(): Uint8Array {
    return new ByteWriter(37).u8(KEY_RECORD_VERSION).u32(this.id).fixed(this.keyPair.privateKeyBytes()).finish();
  }

  static deserialize(bytes: Uint8Array): PreKeyRecord {
    const reader = new ByteReader(bytes, CryptoErrorCode.InvalidKey);
    readVersion(reader, 'prekey record', KEY_RECORD_VERSION);
    const id = reader.u32();
    const keyPair = KeyPair.fromPrivate(reader.fixed(X25519_PRIVATE_KEY_BYTES));
    reader.end();
    return new PreKeyRecord(id, keyPair);
  }
}

/** `count` fresh one-time prekeys with the consecutive ids `startId`, `startId + 1`, ... */
export function generatePreKeys(startId: number, count: number): PreKeyRecord[] {
  const records: PreKeyRecord[] = [];
  for (let i = 0; i < count; i++) records.push(PreKeyRecord.generate(startId + i));
  return records;
}

function checkKeyId(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`key id must be a u32, got ${id}`);
  return id;
}

/** The medium-term prekey, signed by the identity key over its 33-byte serialised public key. */
export class SignedPreKeyRecord {
  readonly id: number;
  readonly keyPair: KeyPair;
  readonly signature: Uint8Array;
  /** Creation time, milliseconds since the epoch. */
  readonly timestamp: number;

  private constructor(id: number, keyPair: KeyPair, signature: Uint8Array, timestamp: number) {
    this.id = id;
    this.keyPair = keyPair;
    this.signature = signature;
    this.timestamp = timestamp;
  }

  static generate(id: number, identity: IdentityKeyPair, timestamp: number = Date.now()): SignedPreKeyRecord {
    const keyPair = KeyPair.generate();
    return new SignedPreKeyRecord(checkKeyId(id), keyPair, identity.sign(keyPair.publicKey.serialize()), timestamp);
  }

  /** True once the key is older than `maxAgeMs`: generate a successor, publish it, keep this one a while. */
  isStale(now: number = Date.now(), maxAgeMs: number = SIGNED_PRE_KEY_MAX_AGE_MS): boolean {
    return now - this.timestamp >= maxAgeMs;
  }

  serialize(): Uint8Array {
    return new ByteWriter(109)
      .u8(KEY_RECORD_VERSION)
      .u32(this.id)
      .u32(Math.floor(this.timestamp / 2 ** 32))
      .u32(this.timestamp >>> 0)
      .fixed(this.keyPair.privateKeyBytes())
      .fixed(this.signature)
      .finish();
  }

  static deserialize(bytes: Uint8Array): SignedPreKeyRecord {
    const reader = new ByteReader(bytes, CryptoErrorCode.InvalidKey);
    readVersion(reader, 'signed prekey record', KEY_RECORD_VERSION);
    const id = reader.u32();
    const timestamp = reader.u32() * 2 ** 32 + reader.u32();
    const keyPair = KeyPair.fromPrivate(reader.fixed(X25519_PRIVATE_KEY_BYTES));
    const signature = reader.fixed(ED25519_SIGNATURE_BYTES);
    reader.end();
    return new SignedPreKeyRecord(id, keyPair, signature, timestamp);
  }
}

/**
 * A signed ML-KEM-1024 prekey of PQXDH (libsignal's KyberPreKeyRecord), signed by the identity key over its
 * 1,569-byte serialised public key. One-time ones are used for at most one session and then deleted; the
 * last-resort one is handed out when the directory has no one-time key left, and kept after use.
 */
export class PqPreKeyRecord {
  readonly id: number;
  readonly keyPair: KemKeyPair;
  readonly signature: Uint8Array;
  /** Creation time, milliseconds since the epoch. */
  readonly timestamp: number;
  readonly lastResort: boolean;

  private constructor(id: number, keyPair: KemKeyPair, signature: Uint8Array, timestamp: number, lastResort: boolean) {
    this.id = id;
    this.keyPair = keyPair;
    this.signature = signature;
    this.timestamp = timestamp;
    this.lastResort = lastResort;
  }

  static generate(
    id: number,
    identity: IdentityKeyPair,
    options: { lastResort?: boolean; timestamp?: number } = {},
  ): PqPreKeyRecord {
    const keyPair = KemKeyPair.generate();
    const signature = identity.sign(keyPair.publicKey.serialize());
    return new PqPreKeyRecord(
      checkKeyId(id),
      keyPair,
      signature,
      options.timestamp ?? Date.now(),
      options.lastResort ?? false,
    );
  }

  /** True once a last-resort key is older than `maxAgeMs` (the signed prekey's schedule). */
  isStale(now: number = Date.now(), maxAgeMs: number = SIGNED_PRE_KEY_MAX_AGE_MS): boolean {
    return now - this.timestamp >= maxAgeMs;
  }

  serialize(): Uint8Array {
    return new ByteWriter(1 + 4 + 8 + 1 + KEM_SECRET_KEY_BYTES + ED25519_SIGNATURE_BYTES)
      .u8(KEY_RECORD_VERSION)
      .u32(this.id)
      .u32(Math.floor(this.timestamp / 2 ** 32))
      .u32(this.timestamp >>> 0)
      .bool(this.lastResort)
      .fixed(this.keyPair.secretKeyBytes())
      .fixed(this.signature)
      .finish();
  }

  static deserialize(bytes: Uint8Array): PqPreKeyRecord {
    const reader = new ByteReader(bytes, CryptoErrorCode.InvalidKey);
    readVersion(reader, 'PQ prekey record', KEY_RECORD_VERSION);
    const id = reader.u32();
    const timestamp = reader.u32() * 2 ** 32 + reader.u32();
    const lastResort = reader.bool();
    const keyPair = KemKeyPair.fromSecretKey(reader.fixed(KEM_SECRET_KEY_BYTES));
    const signature = reader.fixed(ED25519_SIGNATURE_BYTES);
    reader.end();
    return new PqPreKeyRecord(id, keyPair, signature, timestamp, lastResort);
  }
}

/** `count` fresh signed one-time PQ prekeys with the consecutive ids `startId`, `startId + 1`, ... */
export function generatePqPreKeys(identity: IdentityKeyPair, startId: number, count: number): PqPreKeyRecord[] {
  const records: PqPreKeyRecord[] = [];
  for (let i = 0; i < count; i++) records.push(PqPreKeyRecord.generate(startId + i, identity));
  return records;
}

export interface PreKeyBundleFields {
  registrationId: number;
  deviceId: number;
  identityKey: IdentityKey;
  signedPreKeyId: number;
  signedPreKey: PublicKey;
  signedPreKeySignature: Uint8Array;
  /** Absent when the directory ran out of one-time prekeys: X3DH then runs with three agreements. */
  preKeyId?: number | undefined;
  preKey?: PublicKey | undefined;
  /** PQXDH: the signed ML-KEM prekey (one-time, or the last-resort one). Absent for a classical device. */
  pqPreKeyId?: number | undefined;
  pqPreKey?: KemPublicKey | undefined;
  pqPreKeySignature?: Uint8Array | undefined;
}

/** What the key directory returns for one device: its public identity and prekeys. */
export class PreKeyBundle {
  readonly registrationId: number;
  readonly deviceId: number;
  readonly identityKey: IdentityKey;
  readonly signedPreKeyId: number;
  readonly signedPreKey: PublicKey;
  readonly signedPreKeySignature: Uint8Array;
  readonly preKeyId: number | undefined;
  readonly preKey: PublicKey | undefined;
  readonly pqPreKeyId: number | undefined;
  readonly pqPreKey: KemPublicKey | undefined;
  readonly pqPreKeySignature: Uint8Array | undefined;

  private constructor(fields: PreKeyBundleFields) {
    this.registrationId = fields.registrationId;
    this.deviceId = fields.deviceId;
    this.identityKey = fields.identityKey;
    this.signedPreKeyId = fields.signedPreKeyId;
    this.signedPreKey = fields.signedPreKey;
    this.signedPreKeySignature = fields.signedPreKeySignature;
    this.preKeyId = fields.preKeyId;
    this.preKey = fields.preKey;
    this.pqPreKeyId = fields.pqPreKeyId;
    this.pqPreKey = fields.pqPreKey;
    this.pqPreKeySignature = fields.pqPreKeySignature;
  }

  static create(fields: PreKeyBundleFields): PreKeyBundle {
    if ((fields.preKeyId === undefined) !== (fields.preKey === undefined)) {
      throw new RangeError('a one-time prekey needs both its id and its key');
    }
    const pq = [fields.pqPreKeyId, fields.pqPreKey, fields.pqPreKeySignature].filter((f) => f !== undefined).length;
    if (pq !== 0 && pq !== 3) throw new RangeError('a PQ prekey needs its id, its key and its signature');
    return new PreKeyBundle({
      ...fields,
      signedPreKeySignature: fields.signedPreKeySignature.slice(),
      pqPreKeySignature: fields.pqPreKeySignature?.slice(),
    });
  }

  /** True when the bundle carries an ML-KEM prekey: a session from it is PQXDH. */
  get postQuantum(): boolean {
    return this.pqPreKey !== undefined;
  }

  /** Checks the identity key's signatures over the signed prekey and, if present, the PQ prekey. */
  verifySignature(): boolean {
    if (!this.identityKey.verify(this.signedPreKey.serialize(), this.signedPreKeySignature)) return false;
    if (this.pqPreKey === undefined || this.pqPreKeySignature === undefined) return true;
    return this.identityKey.verify(this.pqPreKey.serialize(), this.pqPreKeySignature);
  }

  serialize(): Uint8Array {
    const writer = new ByteWriter(200)
      .u8(PRE_KEY_BUNDLE_VERSION)
      .u32(this.registrationId)
      .u32(this.deviceId)
      .fixed(this.identityKey.serialize())
      .u32(this.signedPreKeyId)
      .fixed(this.signedPreKey.serialize())
      .fixed(this.signedPreKeySignature)
      .bool(this.preKey !== undefined);
    if (this.preKey !== undefined && this.preKeyId !== undefined) {
      writer.u32(this.preKeyId).fixed(this.preKey.serialize());
    }
    writer.bool(this.pqPreKey !== undefined);
    if (this.pqPreKey !== undefined && this.pqPreKeyId !== undefined && this.pqPreKeySignature !== undefined) {
      writer.u32(this.pqPreKeyId).fixed(this.pqPreKey.serialize()).fixed(this.pqPreKeySignature);
    }
    return writer.finish();
  }

  static deserialize(bytes: Uint8Array): PreKeyBundle {
    const reader = new ByteReader(bytes, CryptoErrorCode.InvalidKey);
    const version = readVersion(reader, 'prekey bundle', PRE_KEY_BUNDLE_VERSION);
    const registrationId = reader.u32();
    const deviceId = reader.u32();
    const identityKey = IdentityKey.deserialize(reader.fixed(SERIALIZED_IDENTITY_KEY_BYTES));
    const signedPreKeyId = reader.u32();
    const signedPreKey = PublicKey.deserialize(reader.fixed(SERIALIZED_PUBLIC_KEY_BYTES));
    const signedPreKeySignature = reader.fixed(ED25519_SIGNATURE_BYTES);
    let preKeyId: number | undefined;
    let preKey: PublicKey | undefined;
    if (reader.bool()) {
      preKeyId = reader.u32();
      preKey = PublicKey.deserialize(reader.fixed(SERIALIZED_PUBLIC_KEY_BYTES));
    }
    let pqPreKeyId: number | undefined;
    let pqPreKey: KemPublicKey | undefined;
    let pqPreKeySignature: Uint8Array | undefined;
    if (version >= 2 && reader.bool()) {
      pqPreKeyId = reader.u32();
      pqPreKey = KemPublicKey.deserialize(reader.fixed(SERIALIZED_KEM_PUBLIC_KEY_BYTES));
      pqPreKeySignature = reader.fixed(ED25519_SIGNATURE_BYTES);
    }
    reader.end();
    return new PreKeyBundle({
      registrationId,
      deviceId,
      identityKey,
      signedPreKeyId,
      signedPreKey,
      signedPreKeySignature,
      preKeyId,
      preKey,
      pqPreKeyId,
      pqPreKey,
      pqPreKeySignature,
    });
  }
}
