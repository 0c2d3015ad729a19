import type { CallSignalFrame, ServerFrame, TypingFrame } from '@ciphertalk/shared/protocol';
import { markRead } from './conversations.ts';
import { ValidationError } from './errors.ts';
import { type FanoutResult, publish } from './fanout.ts';
import type { DeviceRef, NoticeDeps } from './messages.ts';
import { membersIfMember } from './presence.ts';
import { RateLimitedError } from './rate-limits.ts';

/** Typing notices a user may send per conversation per window: a client sends one every few seconds. */
export const TYPING_LIMIT = { count: 10, windowSeconds: 10 } as const;

/** `typing`: relayed to the other members' connections; rate-limited per user and conversation; never stored. */
export async function relayTyping(deps: NoticeDeps, sender: DeviceRef, frame: TypingFrame): Promise<FanoutResult> {
  const [members, hits] = await Promise.all([
    membersIfMember(deps, sender.userId, frame.conversationId),
    deps.realtime.registry.hit(`typing:${sender.userId}:${frame.conversationId}`, TYPING_LIMIT.windowSeconds),
  ]);
  if (hits > TYPING_LIMIT.count) throw new RateLimitedError(TYPING_LIMIT.windowSeconds, 'typing');
  const notice: ServerFrame = {
    type: 'typing',
    conversationId: frame.conversationId,
    userId: sender.userId,
    state: frame.state,
  };
  return publish(
    deps,
    members.filter((id) => id !== sender.userId),
    () => notice,
  );
}

/**
 * `receipt.read`: moves the reader's read marker and tells every member's connections (the reader's other
 * devices too, so their unread counts follow).
 */
export async function readReceipt(
  deps: NoticeDeps,
  reader: DeviceRef,
  conversationId: string,
  seq: number,
  now: Date,
): Promise<{ lastReadSeq: number; unreadCount: number }> {
  const principal = { userId: reader.userId, deviceId: reader.deviceId, sessionId: '' };
  const marker = await markRead(deps, principal, conversationId, seq);
  const members = await membersIfMember(deps, reader.userId, conversationId);
  const receipt: ServerFrame = {
    type: 'receipt',
    conversationId,
    userId: reader.userId,
    status: 'read',
    seq: marker.lastReadSeq,
    at: now.toISOString(),
  };
  await publish(deps, members, (connection) =>
    connection.userId === reader.userId && connection.deviceId === reader.deviceId ? null : receipt,
  );
  return marker;
}

/**
 * `call.signal`: relays each end-to-end-encrypted envelope to the device it names, which must belong to a
 * member of the conversation (and not be the sender's own device). Nothing is stored.
 */
export async function relayCallSignal(
  deps: NoticeDeps,
  sender: DeviceRef,
  frame: CallSignalFrame,
): Promise<FanoutResult> {
  const members = new Set(await membersIfMember(deps, sender.userId, frame.conversationId));
  const envelopes = new Map<string, ServerFrame>();
  for (const envelope of frame.envelopes) {
    const userId = envelope.userId.toLowerCase();
    if (!members.has(userId) || (userId === sender.userId && envelope.deviceId === sender.deviceId)) {
      throw new ValidationError('A call signal goes to devices of the conversation’s other members only', [
        { path: `${userId}/${envelope.deviceId}`, message: 'not a recipient' },
      ]);
    }
    envelopes.set(`${userId}/${envelope.deviceId}`, {
      type: 'call.signal',
      conversationId: frame.conversationId,
      callId: frame.callId,
      fromUserId: sender.userId,
      fromDeviceId: sender.deviceId,
      envelope: { type: envelope.type, ciphertext: envelope.ciphertext },
    });
  }
  const userIds = [...new Set(frame.envelopes.map((envelope) => envelope.userId.toLowerCase()))];
  return publish(deps, userIds, (connection) => envelopes.get(`${connection.userId}/${connection.deviceId}`) ?? null);
}
