/**
 * Safety numbers, exactly as libsignal's fingerprint.rs computes them:
 *   per party: H_0 = SHA-512(0x0000 || key || stable id || key), H_i = SHA-512(H_{i-1} || key), 5,200 times;
 *   displayable: the first 30 bytes of each hash as six 5-byte big-endian numbers mod 100,000, five digits each,
 *   the two 30-digit halves ordered so that both parties print the same 60 digits;
 *   scannable (the QR payload): protobuf CombinedFingerprints { version, local { content: H[0..32] },
 *   remote { content: H[0..32] } }, compared crosswise and in constant time.
 *
 * `key` is the serialised identity key: libsignal's is 0x05 || Curve25519 key; ours is 0x65 || Ed25519 key
 * (see keys.ts), so our numbers are computed the same way over our key format. A changed identity key changes
 * the number, which is how a key change becomes visible to the two people comparing.
 */
import { CryptoError, CryptoErrorCode } from './errors.ts';
import type { IdentityKey } from './keys.ts';
import { constantTimeEqual, SHA512_BYTES, sodium, utf8 } from './sodium.ts';

export const FINGERPRINT_ITERATIONS = 5200;
/** Version of the scannable payload (libsignal's current scannable version). */
export const SCANNABLE_FINGERPRINT_VERSION = 2;
export const DISPLAYABLE_FINGERPRINT_DIGITS = 60;
const SCANNABLE_HASH_BYTES = 32;
const DISPLAY_CHUNKS = 6;
const DISPLAY_CHUNK_BYTES = 5;

/** The iterated SHA-512 of one party: stable identifier and serialised identity key. */
export function fingerprintHash(iterations: number, stableId: Uint8Array, serializedKey: Uint8Array): Uint8Array {
  if (!Number.isInteger(iterations) || iterations <= 1 || iterations > 1_000_000) {
    throw new RangeError(`invalid fingerprint iterations ${iterations}`);
  }
  const s = sodium();
  const first = new Uint8Array(2 + serializedKey.length * 2 + stableId.length);
  first.set(serializedKey, 2);
  first.set(stableId, 2 + serializedKey.length);
  first.set(serializedKey, 2 + serializedKey.length + stableId.length);
  let hash = s.crypto_hash_sha512(first);
  const next = new Uint8Array(SHA512_BYTES + serializedKey.length);
  next.set(serializedKey, SHA512_BYTES);
  for (let i = 1; i < iterations; i++) {
    next.set(hash, 0);
    hash = s.crypto_hash_sha512(next);
  }
  return hash;
}

function displayHalf(hash: Uint8Array): string {
  let out = '';
  for (let chunk = 0; chunk < DISPLAY_CHUNKS; chunk++) {
    let value = 0;
    for (let i = 0; i < DISPLAY_CHUNK_BYTES; i++) value = value * 256 + (hash[chunk * DISPLAY_CHUNK_BYTES + i] ?? 0);
    out += String(value % 100_000).padStart(5, '0');
  }
  return out;
}

/** The scannable payload of one side, as in libsignal's ScannableFingerprint. */
export class ScannableFingerprint {
  readonly version: number;
  readonly #local: Uint8Array;
  readonly #remote: Uint8Array;

  private constructor(version: number, local: Uint8Array, remote: Uint8Array) {
    this.version = version;
    this.#local = local;
    this.#remote = remote;
  }

  static fromHashes(version: number, localHash: Uint8Array, remoteHash: Uint8Array): ScannableFingerprint {
    return new ScannableFingerprint(
      version,
      localHash.slice(0, SCANNABLE_HASH_BYTES),
      remoteHash.slice(0, SCANNABLE_HASH_BYTES),
    );
  }

  /** protobuf: field 1 varint version; fields 2 and 3 each a message with field 1 = 32 bytes. */
  serialize(): Uint8Array {
    const out = new Uint8Array(2 + 2 * (4 + SCANNABLE_HASH_BYTES));
    out.set([0x08, this.version, 0x12, 0x22, 0x0a, SCANNABLE_HASH_BYTES], 0);
    out.set(this.#local, 6);
    out.set([0x1a, 0x22, 0x0a, SCANNABLE_HASH_BYTES], 6 + SCANNABLE_HASH_BYTES);
    out.set(this.#remote, 10 + SCANNABLE_HASH_BYTES);
    return out;
  }

  static deserialize(bytes: Uint8Array): ScannableFingerprint {
    const invalid = () => new CryptoError(CryptoErrorCode.InvalidMessage, 'not a scannable fingerprint');
    const expected = 2 + 2 * (4 + SCANNABLE_HASH_BYTES);
    if (bytes.length !== expected || bytes[0] !== 0x08) throw invalid();
    const version = bytes[1] ?? 0;
    const matches = (at: number, tag: number) =>
      bytes[at] === tag && bytes[at + 1] === 0x22 && bytes[at + 2] === 0x0a && bytes[at + 3] === SCANNABLE_HASH_BYTES;
    if (version === 0 || version > 0x7f || !matches(2, 0x12) || !matches(6 + SCANNABLE_HASH_BYTES, 0x1a)) {
      throw invalid();
    }
    return new ScannableFingerprint(
      version,
      bytes.slice(6, 6 + SCANNABLE_HASH_BYTES),
      bytes.slice(10 + SCANNABLE_HASH_BYTES, 10 + 2 * SCANNABLE_HASH_BYTES),
    );
  }

  /**
   * True when `scanned` (the other phone's payload) shows our key as its remote key and its key as our remote
   * key. A different version is an error (the two apps must agree on a version first), not a mismatch.
   */
  compare(scanned: Uint8Array): boolean {
    const theirs = ScannableFingerprint.deserialize(scanned);
    if (theirs.version !== this.version) {
      throw new CryptoError(
        CryptoErrorCode.UnsupportedVersion,
        `fingerprint version ${theirs.version}, expected ${this.version}`,
      );
    }
    const same1 = constantTimeEqual(theirs.#local, this.#remote);
    const same2 = constantTimeEqual(theirs.#remote, this.#local);
    return same1 && same2;
  }
}

export class Fingerprint {
  /** The 60 digits both people read out (same on both phones). */
  readonly displayString: string;
  readonly scannable: ScannableFingerprint;

  private constructor(displayString: string, scannable: ScannableFingerprint) {
    this.displayString = displayString;
    this.scannable = scannable;
  }

  /** From already serialised identity keys (libsignal's 0x05 keys in the known-answer tests). */
  static fromSerializedKeys(params: {
    localId: Uint8Array;
    localKey: Uint8Array;
    remoteId: Uint8Array;
    remoteKey: Uint8Array;
    iterations?: number;
    version?: number;
  }): Fingerprint {
    const iterations = params.iterations ?? FINGERPRINT_ITERATIONS;
    const local = fingerprintHash(iterations, params.localId, params.localKey);
    const remote = fingerprintHash(iterations, params.remoteId, params.remoteKey);
    const localDigits = displayHalf(local);
    const remoteDigits = displayHalf(remote);
    const display = localDigits < remoteDigits ? localDigits + remoteDigits : remoteDigits + localDigits;
    return new Fingerprint(
      display,
      ScannableFingerprint.fromHashes(params.version ?? SCANNABLE_FINGERPRINT_VERSION, local, remote),
    );
  }

  /** The safety number between us (`localId`, `localKey`) and them; `*Id` are stable user identifiers. */
  static compute(localId: string, localKey: IdentityKey, remoteId: string, remoteKey: IdentityKey): Fingerprint {
    return Fingerprint.fromSerializedKeys({
      localId: utf8(localId),
      localKey: localKey.serialize(),
      remoteId: utf8(remoteId),
      remoteKey: remoteKey.serialize(),
    });
  }

  /** The displayable number grouped as Signal shows it: twelve blocks of five digits. */
  formatted(): string {
    return this.displayString.match(/\d{5}/g)?.join(' ') ?? this.displayString;
  }
}
