/**
 * The one place that touches libsodium: initialisation and the primitives the protocol is built from.
 *
 * libsodium-wrappers-sumo loads a WebAssembly module asynchronously, so `await initCrypto()` once at start-up
 * (browser entry point, test setup, benchmark) before calling anything else in this library. The default ESM
 * import works unchanged under Node 20, vitest and Vite with libsodium-wrappers-sumo >= 0.8.
 */
import sodiumModule from 'libsodium-wrappers-sumo';
import { CryptoError, CryptoErrorCode } from './errors.ts';

export type Sodium = typeof sodiumModule;

let ready: Sodium | undefined;
let loading: Promise<Sodium> | undefined;

/** Resolves once libsodium is loaded. Safe to call many times and concurrently. */
export async function initCrypto(): Promise<void> {
  loading ??= sodiumModule.ready.then(() => {
    ready = sodiumModule;
    return sodiumModule;
  });
  await loading;
}

/** The loaded libsodium; throws {@link CryptoErrorCode.NotInitialised} before `initCrypto()` resolved. */
export function sodium(): Sodium {
  if (ready === undefined) {
    throw new CryptoError(CryptoErrorCode.NotInitialised, 'await initCrypto() before using the crypto library');
  }
  return ready;
}

export const SHA256_BYTES = 32;
export const SHA512_BYTES = 64;
export const HMAC_SHA256_BYTES = 32;
/** Largest output of HKDF-SHA256 (RFC 5869: 255 blocks). */
export const HKDF_SHA256_MAX_BYTES = 255 * SHA256_BYTES;

/** The Web Crypto CSPRNG, present in browsers, workers and Node >= 19; libsodium's ESM build requires it too. */
interface RandomSource {
  getRandomValues<T extends Uint8Array>(array: T): T;
}
const webCrypto = (globalThis as { crypto?: RandomSource }).crypto;
/** getRandomValues fills at most 65,536 bytes per call. */
const MAX_RANDOM_BYTES_PER_CALL = 65_536;

/**
 * Cryptographically secure random bytes. Taken from `globalThis.crypto.getRandomValues` directly: libsodium.js
 * routes `randombytes_buf` through a JavaScript callback once per 4 bytes, which made a 32-byte key cost more
 * than an X25519 key derivation. Falls back to libsodium where Web Crypto is missing.
 */
export function randomBytes(length: number): Uint8Array {
  if (webCrypto === undefined) return sodium().randombytes_buf(length);
  const out = new Uint8Array(length);
  for (let offset = 0; offset < length; offset += MAX_RANDOM_BYTES_PER_CALL) {
    webCrypto.getRandomValues(out.subarray(offset, Math.min(length, offset + MAX_RANDOM_BYTES_PER_CALL)));
  }
  return out;
}

/** Equality of public, non-secret bytes (ratchet keys, ids): no need for the constant-time path. */
export function publicBytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sha256(data: Uint8Array): Uint8Array {
  return sodium().crypto_hash_sha256(data);
}

export function sha512(data: Uint8Array): Uint8Array {
  return sodium().crypto_hash_sha512(data);
}

/**
 * HMAC-SHA256 of `data` under `key`, for keys of any length (RFC 2104). libsodium's one-shot
 * `crypto_auth_hmacsha256` insists on a 32-byte key; the init/update/final form takes any length.
 */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  const s = sodium();
  if (key.length === s.crypto_auth_hmacsha256_KEYBYTES) return s.crypto_auth_hmacsha256(data, key);
  const state = s.crypto_auth_hmacsha256_init(key);
  s.crypto_auth_hmacsha256_update(state, data);
  return s.crypto_auth_hmacsha256_final(state);
}

/** HKDF-Extract (RFC 5869 section 2.2). An absent salt is HashLen zero bytes. */
export function hkdfExtract(salt: Uint8Array | undefined, ikm: Uint8Array): Uint8Array {
  return hmacSha256(salt ?? new Uint8Array(SHA256_BYTES), ikm);
}

/** HKDF-Expand (RFC 5869 section 2.3). */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > HKDF_SHA256_MAX_BYTES) {
    throw new RangeError(`HKDF-SHA256 output length must be 0..${HKDF_SHA256_MAX_BYTES}, got ${length}`);
  }
  const okm = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let offset = 0, counter = 1; offset < length; counter++) {
    previous = hmacSha256(prk, concatBytes(previous, info, Uint8Array.of(counter)));
    okm.set(previous.subarray(0, Math.min(previous.length, length - offset)), offset);
    offset += previous.length;
  }
  return okm;
}

/** HKDF-SHA256 (RFC 5869): extract then expand. */
export function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array | undefined,
  info: Uint8Array,
  length: number,
): Uint8Array {
  return hkdfExpand(hkdfExtract(salt, ikm), info, length);
}

/** Constant-time equality of two byte strings (length is not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && sodium().memcmp(a, b);
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function utf8(text: string): Uint8Array {
  return sodium().from_string(text);
}
