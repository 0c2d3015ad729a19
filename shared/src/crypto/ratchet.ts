/**
 * The Double Ratchet's key derivation functions, byte-for-byte those of libsignal so its published vectors
 * check them (rust/protocol/src/ratchet/keys.rs):
 * - root chain: HKDF-SHA256(ikm = DH output, salt = root key, info = "WhisperRatchet") -> root key || chain key;
 * - symmetric chain: message key seed = HMAC-SHA256(chain key, 0x01), next chain key = HMAC-SHA256(chain key, 0x02);
 * - message keys: HKDF-SHA256(ikm = seed, no salt, info = "WhisperMessageKeys", 80 bytes)
 *   -> cipher key (32) || MAC key (32) || IV (16).
 *
 * Message bodies are sealed with ChaCha20-Poly1305 (IETF) under the cipher key with the first 12 IV bytes as
 * nonce, instead of libsignal's AES-256-CBC + truncated HMAC-SHA256: libsodium has no AES-CBC, and an AEAD
 * authenticates the header and both identities directly as associated data. The MAC key is derived (so the KDF
 * stays identical) and not used. Each message key seals exactly one message, so the nonce never repeats.
 */
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { hkdfSha256, hmacSha256, sodium, utf8 } from './sodium.ts';

export const ROOT_KEY_BYTES = 32;
export const CHAIN_KEY_BYTES = 32;
export const MESSAGE_KEY_SEED_BYTES = 32;
export const CIPHER_KEY_BYTES = 32;
export const MAC_KEY_BYTES = 32;
export const IV_BYTES = 16;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;
/** HMAC input for the message key seed (Signal spec, libsignal ChainKey::MESSAGE_KEY_SEED). */
export const MESSAGE_KEY_SEED_CONSTANT = 0x01;
/** HMAC input for the next chain key (libsignal ChainKey::CHAIN_KEY_SEED). */
export const CHAIN_KEY_SEED_CONSTANT = 0x02;

const MESSAGE_KEY_SEED_INPUT = Uint8Array.of(MESSAGE_KEY_SEED_CONSTANT);
const CHAIN_KEY_SEED_INPUT = Uint8Array.of(CHAIN_KEY_SEED_CONSTANT);
let infoCache: { ratchet: Uint8Array; messageKeys: Uint8Array } | undefined;
function info(): { ratchet: Uint8Array; messageKeys: Uint8Array } {
  infoCache ??= { ratchet: utf8('WhisperRatchet'), messageKeys: utf8('WhisperMessageKeys') };
  return infoCache;
}

export interface MessageKeys {
  cipherKey: Uint8Array;
  macKey: Uint8Array;
  iv: Uint8Array;
}

export function messageKeySeed(chainKey: Uint8Array): Uint8Array {
  return hmacSha256(chainKey, MESSAGE_KEY_SEED_INPUT);
}

export function nextChainKey(chainKey: Uint8Array): Uint8Array {
  return hmacSha256(chainKey, CHAIN_KEY_SEED_INPUT);
}

export function deriveMessageKeys(seed: Uint8Array): MessageKeys {
  const okm = hkdfSha256(seed, undefined, info().messageKeys, CIPHER_KEY_BYTES + MAC_KEY_BYTES + IV_BYTES);
  return {
    cipherKey: okm.slice(0, CIPHER_KEY_BYTES),
    macKey: okm.slice(CIPHER_KEY_BYTES, CIPHER_KEY_BYTES + MAC_KEY_BYTES),
    iv: okm.slice(CIPHER_KEY_BYTES + MAC_KEY_BYTES),
  };
}

/** One step of the root chain: KDF_RK(rk, dh_out). */
export function deriveRootChain(
  rootKey: Uint8Array,
  dhOutput: Uint8Array,
): { rootKey: Uint8Array; chainKey: Uint8Array } {
  const okm = hkdfSha256(dhOutput, rootKey, info().ratchet, ROOT_KEY_BYTES + CHAIN_KEY_BYTES);
  return { rootKey: okm.slice(0, ROOT_KEY_BYTES), chainKey: okm.slice(ROOT_KEY_BYTES) };
}

/** The part of the message keys the AEAD uses. */
export type AeadKeys = Pick<MessageKeys, 'cipherKey' | 'iv'>;

export function sealWithMessageKeys(keys: AeadKeys, plaintext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  return sodium().crypto_aead_chacha20poly1305_ietf_encrypt(
    plaintext,
    associatedData,
    null,
    keys.iv.subarray(0, AEAD_NONCE_BYTES),
    keys.cipherKey,
  );
}

/** Verifies the Poly1305 tag (constant time, inside libsodium) before anything is decrypted. */
export function openWithMessageKeys(keys: AeadKeys, ciphertext: Uint8Array, associatedData: Uint8Array): Uint8Array {
  if (ciphertext.length < AEAD_TAG_BYTES) throw new CryptoError(CryptoErrorCode.InvalidMessage, 'ciphertext too short');
  try {
    return sodium().crypto_aead_chacha20poly1305_ietf_decrypt(
      null,
      ciphertext,
      associatedData,
      keys.iv.subarray(0, AEAD_NONCE_BYTES),
      keys.cipherKey,
    );
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.InvalidMessage, 'message authentication failed', { cause });
  }
}
