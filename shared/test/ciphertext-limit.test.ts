import { describe, expect, it } from 'vitest';
import { Envelope, MAX_CIPHERTEXT_BYTES, SendMessageRequest } from '../src/protocol/index.ts';

/** One ciphertext limit, in bytes: the schema counts what the base64 decodes to, as the database does. */
describe('ciphertext size', () => {
  const senderKey = (bytes: number) => ({
    clientMessageId: '00000000-0000-4000-8000-000000000002',
    senderKeyCiphertext: Buffer.alloc(bytes, 1).toString('base64'),
    recipients: [],
  });
  const envelope = (bytes: number) => ({
    userId: '00000000-0000-4000-8000-000000000001',
    deviceId: 1,
    type: 'signal' as const,
    ciphertext: Buffer.alloc(bytes, 7).toString('base64'),
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
