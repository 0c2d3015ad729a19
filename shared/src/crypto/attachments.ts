/**
 * Attachments: a fresh random key per file, sealed in chunks with libsodium's secretstream
 * (XChaCha20-Poly1305; every chunk authenticated, reordering and truncation detected by the final tag), and a
 * SHA-256 digest of the whole ciphertext, computed as it streams. The message that points at the upload carries
 * the key and the digest; the receiver checks the digest before trusting the download.
 *
 * Streaming: both directions take any (async) iterable of byte chunks of any size and yield chunks, holding at
 * most one chunk of {@link ATTACHMENT_CHUNK_BYTES} (plus one incoming piece) in memory, never the whole file.
 *
 *   Format: u8 version | secretstream header (24) | chunk* where each chunk is <= 64 KiB of plaintext + 17
 *   bytes; all chunks but the last are exactly 64 KiB + 17 and carry TAG_MESSAGE, the last carries TAG_FINAL.
 *
 * Deviation from Signal: Signal uses AES-256-CBC + HMAC-SHA256 over the whole file with a 64-byte key; we use
 * secretstream (libsodium has no AES-CBC), which also lets a receiver check each chunk as it arrives.
 */
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { concatBytes, constantTimeEqual, randomBytes, sodium } from './sodium.ts';

export const ATTACHMENT_VERSION = 1;
export const ATTACHMENT_KEY_BYTES = 32;
export const ATTACHMENT_CHUNK_BYTES = 64 * 1024;
export const ATTACHMENT_DIGEST_BYTES = 32;
const SECRETSTREAM_HEADER_BYTES = 24;
const SECRETSTREAM_ABYTES = 17;
const SEALED_CHUNK_BYTES = ATTACHMENT_CHUNK_BYTES + SECRETSTREAM_ABYTES;

export type ByteSource = Iterable<Uint8Array> | AsyncIterable<Uint8Array>;

export function generateAttachmentKey(): Uint8Array {
  return randomBytes(ATTACHMENT_KEY_BYTES);
}

/** Cuts an incoming stream into pieces of `size`, always keeping the remainder so the last piece is known. */
class Rechunker {
  #parts: Uint8Array[] = [];
  #length = 0;

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.#parts.push(bytes);
    this.#length += bytes.length;
  }

  get length(): number {
    return this.#length;
  }

  take(size: number): Uint8Array {
    const out = new Uint8Array(Math.min(size, this.#length));
    let filled = 0;
    while (filled < out.length) {
      const part = this.#parts[0] as Uint8Array;
      const used = Math.min(part.length, out.length - filled);
      out.set(part.subarray(0, used), filled);
      filled += used;
      if (used === part.length) this.#parts.shift();
      else this.#parts[0] = part.subarray(used);
    }
    this.#length -= out.length;
    return out;
  }
}

/** A running SHA-256 over everything passed to `update`. */
class Digest {
  readonly #state = sodium().crypto_hash_sha256_init();
  #done: Uint8Array | undefined;

  update(bytes: Uint8Array): Uint8Array {
    sodium().crypto_hash_sha256_update(this.#state, bytes);
    return bytes;
  }

  final(): Uint8Array {
    this.#done ??= sodium().crypto_hash_sha256_final(this.#state);
    return this.#done;
  }
}

function checkKey(key: Uint8Array): void {
  if (key.length !== ATTACHMENT_KEY_BYTES) {
    throw new CryptoError(CryptoErrorCode.InvalidKey, `attachment key must be ${ATTACHMENT_KEY_BYTES} bytes`);
  }
}

/** Encrypts an attachment as it streams. Iterate `chunks` once; `digest()` is available when it is done. */
export class AttachmentEncryptor {
  readonly #key: Uint8Array;
  readonly #source: ByteSource;
  readonly #digest = new Digest();
  #started = false;
  #finished = false;
  #plaintextBytes = 0;

  constructor(key: Uint8Array, source: ByteSource) {
    checkKey(key);
    this.#key = key;
    this.#source = source;
  }

  async *chunks(): AsyncGenerator<Uint8Array> {
    if (this.#started) throw new Error('an AttachmentEncryptor streams its source once');
    this.#started = true;
    const s = sodium();
    const { state, header } = s.crypto_secretstream_xchacha20poly1305_init_push(this.#key);
    const prefix = new Uint8Array(1 + SECRETSTREAM_HEADER_BYTES);
    prefix[0] = ATTACHMENT_VERSION;
    prefix.set(header, 1);
    yield this.#digest.update(prefix);
    const pending = new Rechunker();
    const tagMessage = s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    for await (const piece of this.#source) {
      pending.push(piece);
      this.#plaintextBytes += piece.length;
      while (pending.length > ATTACHMENT_CHUNK_BYTES) {
        const chunk = pending.take(ATTACHMENT_CHUNK_BYTES);
        yield this.#digest.update(s.crypto_secretstream_xchacha20poly1305_push(state, chunk, null, tagMessage));
      }
    }
    const last = pending.take(ATTACHMENT_CHUNK_BYTES);
    const tagFinal = s.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    yield this.#digest.update(s.crypto_secretstream_xchacha20poly1305_push(state, last, null, tagFinal));
    this.#finished = true;
  }

  /** SHA-256 of the complete ciphertext; throws until `chunks()` has been iterated to the end. */
  digest(): Uint8Array {
    if (!this.#finished) throw new Error('attachment digest is known only after the last chunk');
    return this.#digest.final();
  }

  get plaintextBytes(): number {
    return this.#plaintextBytes;
  }
}

/**
 * Decrypts an attachment as it streams, yielding plaintext chunks that each passed authentication. Throws
 * {@link CryptoErrorCode.InvalidMessage} on a bad chunk, a truncated or extended stream, or a digest that is not
 * `expectedDigest` (checked when the stream ends: the last chunk is only released after the digest matched).
 */
export async function* decryptAttachment(
  key: Uint8Array,
  source: ByteSource,
  expectedDigest: Uint8Array,
): AsyncGenerator<Uint8Array> {
  checkKey(key);
  const s = sodium();
  const invalid = (message: string) => new CryptoError(CryptoErrorCode.InvalidMessage, message);
  const digest = new Digest();
  const pending = new Rechunker();
  let state: ReturnType<typeof s.crypto_secretstream_xchacha20poly1305_init_pull> | undefined;
  const pull = (sealed: Uint8Array) => {
    if (state === undefined) throw invalid('attachment header missing');
    const opened = s.crypto_secretstream_xchacha20poly1305_pull(state, sealed, null);
    if (opened === false) throw invalid('attachment chunk failed authentication');
    return opened;
  };
  for await (const piece of source) {
    pending.push(digest.update(piece));
    if (state === undefined && pending.length >= 1 + SECRETSTREAM_HEADER_BYTES) {
      const prefix = pending.take(1 + SECRETSTREAM_HEADER_BYTES);
      if (prefix[0] !== ATTACHMENT_VERSION) throw invalid(`unknown attachment version ${prefix[0]}`);
      try {
        state = s.crypto_secretstream_xchacha20poly1305_init_pull(prefix.subarray(1), key);
      } catch (cause) {
        throw new CryptoError(CryptoErrorCode.InvalidMessage, 'bad attachment header', { cause });
      }
    }
    while (state !== undefined && pending.length > SEALED_CHUNK_BYTES) {
      const opened = pull(pending.take(SEALED_CHUNK_BYTES));
      if (opened.tag !== s.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE) throw invalid('data after final chunk');
      yield opened.message;
    }
  }
  if (pending.length < SECRETSTREAM_ABYTES) throw invalid('attachment truncated');
  const last = pull(pending.take(SEALED_CHUNK_BYTES));
  if (last.tag !== s.crypto_secretstream_xchacha20poly1305_TAG_FINAL) throw invalid('attachment truncated');
  if (!constantTimeEqual(digest.final(), expectedDigest)) throw invalid('attachment digest mismatch');
  yield last.message;
}

/** Convenience for small files: encrypts `plaintext` at once. */
export async function encryptAttachment(
  key: Uint8Array,
  plaintext: Uint8Array,
): Promise<{ ciphertext: Uint8Array; digest: Uint8Array }> {
  const encryptor = new AttachmentEncryptor(key, [plaintext]);
  const parts: Uint8Array[] = [];
  for await (const chunk of encryptor.chunks()) parts.push(chunk);
  return { ciphertext: concatBytes(...parts), digest: encryptor.digest() };
}
