import { describe, expect, it } from 'vitest';
import { type Content, decodeContent, encodeContent } from '../../src/engine/content.ts';
import { PAD_BUCKET_BYTES, pad, unpad } from '../../src/engine/padding.ts';

const id = '0b6f4a52-8b7e-4c1c-9a53-3f5f3d9b8a11';
const other = '6d2f1c8e-2a4b-4f5e-8c7d-9e0a1b2c3d4e';

describe('padding', () => {
  it('pads to whole buckets and back, for every length around the bucket edges', () => {
    for (const length of [0, 1, 158, 159, 160, 161, 319, 320, 1000]) {
      const content = new Uint8Array(length).fill(7);
      const padded = pad(content);
      expect(padded.length % PAD_BUCKET_BYTES).toBe(0);
      expect(padded.length).toBeGreaterThan(length);
      expect(unpad(padded)).toEqual(content);
    }
  });

  it('hides the length within a bucket: 1 and 150 bytes pad to the same size', () => {
    expect(pad(new Uint8Array(1)).length).toBe(pad(new Uint8Array(150)).length);
  });

  it('keeps trailing zeros of the content itself', () => {
    const content = new Uint8Array([1, 0, 0]);
    expect(unpad(pad(content))).toEqual(content);
  });

  it('refuses bytes without the 0x80 marker', () => {
    expect(() => unpad(new Uint8Array(160))).toThrow(RangeError);
    expect(() => unpad(new Uint8Array([1, 2, 3]))).toThrow(RangeError);
  });
});

describe('content schema', () => {
  const samples: Content[] = [
    { v: 1, id, kind: 'text', text: 'hello' },
    { v: 1, id, kind: 'text', text: 'a reply', replyTo: { id: other, senderId: other, excerpt: 'hello' } },
    { v: 1, id, kind: 'text', text: 'again', resendOf: 12 },
    { v: 1, id, kind: 'edit', target: other, text: 'fixed' },
    { v: 1, id, kind: 'delete', target: other },
    { v: 1, id, kind: 'reaction', target: other, emoji: '👍', on: true },
    { v: 1, id, kind: 'sender_key', distribution: 'AQID' },
    { v: 1, id, kind: 'resend_request', seq: 3, device: { userId: other, deviceId: 2 } },
  ];

  it('round-trips every kind through the padded bytes', () => {
    for (const content of samples) expect(decodeContent(encodeContent(content))).toEqual(content);
  });

  it('refuses unknown versions and kinds, missing fields and non-JSON', () => {
    const bytes = (value: unknown) => pad(new TextEncoder().encode(JSON.stringify(value)));
    expect(() => decodeContent(bytes({ v: 2, id, kind: 'text', text: 'future' }))).toThrow();
    expect(() => decodeContent(bytes({ v: 1, id, kind: 'poll', question: '?' }))).toThrow();
    expect(() => decodeContent(bytes({ v: 1, id, kind: 'text' }))).toThrow();
    expect(() => decodeContent(bytes({ v: 1, id: 'not-a-uuid', kind: 'text', text: 'x' }))).toThrow();
    expect(() => decodeContent(pad(new TextEncoder().encode('{not json')))).toThrow(SyntaxError);
    expect(() => encodeContent({ v: 1, id, kind: 'text', text: '' })).toThrow();
  });
});
