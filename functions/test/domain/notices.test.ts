/** Typing, read receipts and call signals on PGlite, with the in-process registry and recording @connections. */
import { describe, expect, it } from 'vitest';
import { NotFoundError, ValidationError } from '#domain/errors.ts';
import { readReceipt, relayCallSignal, relayTyping, TYPING_LIMIT } from '#domain/notices.ts';
import { RateLimitedError } from '#domain/rate-limits.ts';
import { groupWithOutsider } from '../support/messaging.ts';

const cast = groupWithOutsider();

describe('relayTyping', () => {
  it('reaches the other members only, and is refused past its rate', async () => {
    const { w, alice, bob, eve, conversationId } = cast();
    const a1 = await w.connect(alice, 1);
    const b1 = await w.connect(bob, 1);
    const e1 = await w.connect(eve, 1);
    await relayTyping(
      w.deps,
      { userId: alice, deviceId: 1 },
      { action: 'typing', id: 't', conversationId, state: 'start' },
    );
    expect(w.connections.to(b1)).toMatchObject([{ type: 'typing', userId: alice, state: 'start' }]);
    expect(w.connections.to(a1)).toEqual([]);
    expect(w.connections.to(e1)).toEqual([]);
    for (let i = 1; i < TYPING_LIMIT.count; i++) {
      await relayTyping(
        w.deps,
        { userId: alice, deviceId: 1 },
        { action: 'typing', id: 't', conversationId, state: 'start' },
      );
    }
    await expect(
      relayTyping(w.deps, { userId: alice, deviceId: 1 }, { action: 'typing', id: 't', conversationId, state: 'stop' }),
    ).rejects.toBeInstanceOf(RateLimitedError);
  });

  it('answers a non-member as for an unknown conversation', async () => {
    const { w, eve, conversationId } = cast();
    await expect(
      relayTyping(w.deps, { userId: eve, deviceId: 1 }, { action: 'typing', id: 't', conversationId, state: 'start' }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('readReceipt', () => {
  it("moves the reader's marker and tells every member's connections but the reading device", async () => {
    const { w, alice, bob, conversationId } = cast();
    const b1 = await w.connect(bob, 1);
    const a1 = await w.connect(alice, 1);
    const marker = await readReceipt(w.deps, { userId: alice, deviceId: 1 }, conversationId, 0, new Date());
    expect(marker.lastReadSeq).toBe(0);
    expect(w.connections.to(b1)).toMatchObject([{ type: 'receipt', status: 'read', userId: alice }]);
    expect(w.connections.to(a1)).toEqual([]);
  });
});

describe('relayCallSignal', () => {
  it('relays each envelope to the device it names, and refuses devices outside the conversation', async () => {
    const { w, alice, bob, eve, conversationId } = cast();
    const b1 = await w.connect(bob, 1);
    const frame = {
      action: 'call.signal' as const,
      id: 's',
      conversationId,
      callId: '00000000-0000-4000-8000-000000000001',
      envelopes: [{ userId: bob, deviceId: 1, type: 'signal' as const, ciphertext: 'AAAA' }],
    };
    await relayCallSignal(w.deps, { userId: alice, deviceId: 1 }, frame);
    expect(w.connections.to(b1)).toMatchObject([{ type: 'call.signal', fromUserId: alice, fromDeviceId: 1 }]);
    await expect(
      relayCallSignal(
        w.deps,
        { userId: alice, deviceId: 1 },
        {
          ...frame,
          envelopes: [{ userId: eve, deviceId: 1, type: 'signal', ciphertext: 'AAAA' }],
        },
      ),
    ).rejects.toBeInstanceOf(ValidationError);
  });
});
