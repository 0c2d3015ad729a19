import { decryptAttachment, initCrypto } from '@ciphertalk/shared/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentRef } from '../../src/engine/attachment-content.ts';
import { displayOf, encryptBlob, safeName, safeType } from '../../src/engine/attachments.ts';
import { type Content, decodeContent, encodeContent } from '../../src/engine/content.ts';
import { fitWithin } from '../../src/engine/media.ts';
import { transferKey } from '../../src/engine/transfers.ts';

const id = '0b6f4a52-8b7e-4c1c-9a53-3f5f3d9b8a11';
const fileId = '6d2f1c8e-2a4b-4f5e-8c7d-9e0a1b2c3d4e';
const thumbId = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const b32 = Buffer.alloc(32, 7).toString('base64');

const file: AttachmentRef = {
  id: fileId,
  key: b32,
  digest: b32,
  name: 'report.pdf',
  type: 'application/pdf',
  size: 123_456,
};
const picture: AttachmentRef = {
  id: fileId,
  key: b32,
  digest: b32,
  name: 'cat.jpg',
  type: 'image/jpeg',
  size: 2_000_000,
  width: 4000,
  height: 3000,
  thumbnail: { id: thumbId, key: b32, digest: b32, type: 'image/jpeg', width: 320, height: 240 },
};
/** Encodes what a (possibly hostile) sender might put together: the schema is checked on the way. */
const bytes = (value: unknown) => encodeContent(value as Content);

beforeAll(() => initCrypto());

describe('attachments in content', () => {
  it('round-trips a text with files, an empty caption, and avatars', () => {
    const samples: Content[] = [
      { v: 1, id, kind: 'text', text: 'see attached', attachments: [file, picture] },
      { v: 1, id, kind: 'text', text: '', attachments: [picture] },
      { v: 1, id, kind: 'avatar', scope: 'user', attachment: { ...picture, name: 'avatar.jpg' } },
      { v: 1, id, kind: 'avatar', scope: 'group', attachment: null },
    ];
    for (const content of samples) expect(decodeContent(encodeContent(content))).toEqual(content);
  });

  it('refuses a text with neither words nor files, and more than ten files', () => {
    expect(() => bytes({ v: 1, id, kind: 'text', text: '', attachments: [] })).toThrow();
    expect(() => bytes({ v: 1, id, kind: 'text', text: '' })).toThrow();
    expect(() => bytes({ v: 1, id, kind: 'text', text: 'x', attachments: Array(11).fill(file) })).toThrow();
  });

  it('refuses names with paths or control characters, odd types, short keys, negative sizes', () => {
    for (const bad of [
      { name: '../etc/passwd' },
      { name: 'a\\b' },
      { name: 'line\nbreak' },
      { name: '' },
      { name: 'x'.repeat(256) },
      { type: 'text/html; charset=utf-8' },
      { type: 'TEXT/HTML' },
      { key: Buffer.alloc(16).toString('base64') },
      { digest: 'not base64!' },
      { size: -1 },
      { width: 0 },
    ]) {
      expect(
        () => bytes({ v: 1, id, kind: 'text', text: 'x', attachments: [{ ...file, ...bad }] }),
        JSON.stringify(bad),
      ).toThrow();
    }
  });

  it('is read by a client that predates attachments as the text alone', async () => {
    // The schema of version 1 before attachments: unknown fields are stripped, not refused.
    const { z } = await import('zod');
    const old = z.object({ v: z.literal(1), id: z.uuid(), kind: z.literal('text'), text: z.string().min(1) });
    const parsed = old.parse({ v: 1, id, kind: 'text', text: 'see attached', attachments: [file] });
    expect(parsed).toEqual({ v: 1, id, kind: 'text', text: 'see attached' });
  });
});

describe('attachment helpers', () => {
  it('fits thumbnails within the bound, never upscaling', () => {
    expect(fitWithin(4000, 3000, 320)).toEqual({ width: 320, height: 240 });
    expect(fitWithin(600, 800, 256)).toEqual({ width: 192, height: 256 });
    expect(fitWithin(100, 50, 320)).toEqual({ width: 100, height: 50 });
    expect(fitWithin(10_000, 1, 320)).toEqual({ width: 320, height: 1 });
  });

  it('cleans names and types to what the schema accepts', () => {
    expect(safeName('a/b\\c\u0007.txt')).toBe('a_b_c_.txt');
    expect(safeName('..')).toBe('file');
    expect(safeName('x'.repeat(300))).toHaveLength(255);
    expect(safeType('Image/PNG')).toBe('image/png');
    expect(safeType('text/plain; charset=utf-8')).toBe('text/plain');
    expect(safeType('')).toBe('application/octet-stream');
    expect(safeType('weird')).toBe('application/octet-stream');
  });

  it('shows inline only raster images and common videos; SVG and HTML are saved', () => {
    expect(displayOf('image/png')).toBe('image');
    expect(displayOf('image/gif')).toBe('image');
    expect(displayOf('video/mp4')).toBe('video');
    expect(displayOf('image/svg+xml')).toBe('file');
    expect(displayOf('text/html')).toBe('file');
    expect(displayOf('application/octet-stream')).toBe('file');
  });

  it('names transfers per file and thumbnail', () => {
    const ref = { conversationId: 'c', contentId: 'm' };
    expect(transferKey(ref, 0)).toBe('c|m|0');
    expect(transferKey(ref, 2, true)).toBe('c|m|2|thumb');
  });

  it('encrypts a Blob into a ciphertext Blob the crypto library decrypts', async () => {
    const plaintext = new Uint8Array(200_000).map((_, i) => (i * 7) % 251);
    const { ciphertext, key, digest } = await encryptBlob(new Blob([plaintext]));
    // version + header, then four chunks of up to 64 KiB each with a 17-byte tag.
    expect(ciphertext.size).toBe(1 + 24 + plaintext.length + 4 * 17);
    const sealed = new Uint8Array(await ciphertext.arrayBuffer());
    const parts: Uint8Array[] = [];
    for await (const part of decryptAttachment(key, [sealed], digest)) parts.push(part);
    expect(Buffer.concat(parts).equals(Buffer.from(plaintext))).toBe(true);
  });
});
