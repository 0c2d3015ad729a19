import { describe, expect, it } from 'vitest';
import { Envelope, MAX_CIPHERTEXT_BYTES, SendMessageRequest } from '../src/protocol/index.ts';

/** Base64 of `bytes` zero bytes (shared has no Node `Buffer`). */
const zeros = (bytes: number) => 'AAAA'.repeat(Math.floor(bytes / 3)) + ['', 'AA==', 'AAA='][bytes % 3];

/** One ciphertext limit, in bytes: the schema counts what the base64 decodes to, as the database does. */
describe('ciphertext size', () => {
  const senderKey = (bytes: number) => ({
    clientMessageId: '00000000-0000-4000-8000-000000000002',
    senderKeyCiphertext: zeros(bytes),
    recipients: [],
  });
  const envelope = (bytes: number) => ({
    userId: '00000000-0000-4000-8000-000000000001',
    deviceId: 1,
    type: 'signal' as const,
    ciphertext: zeros(bytes),
  });

  it.each([1, MAX_CIPHERTEXT_BYTES - 1, MAX_CIPHERTEXT_BYTES])('accepts %i bytes', (bytes) => {
    expect(Envelope.safeParse(envelope(bytes)).success).toBe(true);
    expect(SendMessageRequest.safeParse(senderKey(bytes)).success).toBe(true);
  });

  it.each([MAX_CIPHERTEXT_BYTES + 1, MAX_CIPHERTEXT_BYTES + 2])(
    'refuses %i bytes, which the database CHECK would refuse (a 500 before)',
    (bytes) => {
      expect(Envelope.safeParse(envelope(bytes)).success).toBe(false);
      expect(SendMessageRequest.safeParse(senderKey(bytes)).success).toBe(false);
    },
  );
});
