import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ATTACHMENT_CHUNK_BYTES,
  AttachmentEncryptor,
  CryptoErrorCode,
  decryptAttachment,
  encryptAttachment,
  generateAttachmentKey,
  initCrypto,
  isCryptoError,
} from '../../src/crypto/index.ts';
import { sha256 } from '../../src/crypto/sodium.ts';

beforeAll(initCrypto);

function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

function* pieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    length += chunk.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function failure(chunks: AsyncIterable<Uint8Array>): Promise<unknown> {
  return collect(chunks).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('attachments', () => {
  it('round-trips any size cut into any pieces, with the digest of the ciphertext', async () => {
    const sizes = fc.constantFrom(0, 1, ATTACHMENT_CHUNK_BYTES - 1, ATTACHMENT_CHUNK_BYTES, ATTACHMENT_CHUNK_BYTES + 1);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(sizes, fc.integer({ min: 0, max: 3 * ATTACHMENT_CHUNK_BYTES })),
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        async (size, inPiece, outPiece) => {
          const key = generateAttachmentKey();
          const plaintext = pattern(size, inPiece);
          const encryptor = new AttachmentEncryptor(key, pieces(plaintext, inPiece));
          const ciphertext = await collect(encryptor.chunks());
          expect(encryptor.digest()).toEqual(sha256(ciphertext));
          expect(encryptor.plaintextBytes).toBe(size);
          const decrypted = await collect(decryptAttachment(key, pieces(ciphertext, outPiece), encryptor.digest()));
          expect(decrypted).toEqual(plaintext);
        },
      ),
      { numRuns: 12 },
    );
  });

  it('yields ciphertext chunk by chunk rather than all at the end', async () => {
    const key = generateAttachmentKey();
    const encryptor = new AttachmentEncryptor(key, pieces(pattern(5 * ATTACHMENT_CHUNK_BYTES), 4096));
    const sizes: number[] = [];
    for await (const chunk of encryptor.chunks()) sizes.push(chunk.length);
    expect(sizes.length).toBe(1 + 5);
    expect(Math.max(...sizes)).toBe(ATTACHMENT_CHUNK_BYTES + 17);
  });

  it('detects a modified, truncated or extended ciphertext, a wrong key and a wrong digest', async () => {
    const key = generateAttachmentKey();
    const { ciphertext, digest } = await encryptAttachment(key, pattern(2 * ATTACHMENT_CHUNK_BYTES + 100));
    const flipped = ciphertext.slice();
    flipped[ATTACHMENT_CHUNK_BYTES + 200] = (flipped[ATTACHMENT_CHUNK_BYTES + 200] ?? 0) ^ 1;
    const cases: [string, Uint8Array, Uint8Array, Uint8Array][] = [
      ['flipped byte', key, flipped, sha256(flipped)],
      ['dropped last chunk', key, ciphertext.subarray(0, 1 + 24 + 2 * (ATTACHMENT_CHUNK_BYTES + 17)), digest],
      ['cut mid-chunk', key, ciphertext.subarray(0, ciphertext.length - 5), digest],
      ['appended bytes', key, new Uint8Array([...ciphertext, 1, 2, 3]), digest],
      ['wrong key', generateAttachmentKey(), ciphertext, digest],
      ['wrong digest', key, ciphertext, sha256(new Uint8Array([1]))],
      ['empty', key, new Uint8Array(0), digest],
    ];
    for (const [name, k, bytes, d] of cases) {
      const error = await failure(decryptAttachment(k, pieces(bytes, 10_000), d));
      expect(isCryptoError(error, CryptoErrorCode.InvalidMessage), name).toBe(true);
    }
  });

  it('uses a fresh key and header each time: the same file encrypts differently', async () => {
    const plaintext = pattern(1000);
    const a = await encryptAttachment(generateAttachmentKey(), plaintext);
    const b = await encryptAttachment(generateAttachmentKey(), plaintext);
    expect(a.digest).not.toEqual(b.digest);
  });
});
