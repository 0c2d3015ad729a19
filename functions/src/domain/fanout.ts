import type { ReceiptFrame, ServerFrame } from '@ciphertalk/shared/protocol';
import type { ConnectionRecord } from '#ports/connection-registry.ts';
import type { PublishedEvents } from './conversations.ts';
import type { Acknowledged, DeviceRef, MessagingDeps, StoredMessage } from './messages.ts';
import { ciphertextFor } from './messages.ts';

/**
 * What a fan-out did: frames sent, stale connections found (and removed), posts that failed otherwise, and
 * the users it found no connection of at all.
 */
export interface FanoutResult {
  sent: number;
  gone: number;
  failed: number;
  unreached: string[];
}

/**
 * A connection this young that API Gateway calls gone may still be in its `$connect` (registered, not yet
 * open): its record stays. Longer than the $connect function may run.
 */
export const CONNECT_GRACE_MS = 30_000;

/**
 * Posts a frame to every live connection of `userIds`: one registry round trip to find them, then every
 * post in parallel. A connection API Gateway reports gone (410) is removed from the registry: that stale
 * connection, never the sender's, and never one young enough to be still connecting (CONNECT_GRACE_MS). Other failures are counted and skipped: what is published here is
 * already durable, and a device that missed it gets it from `GET /sync`.
 */
export async function publish(
  { realtime }: Pick<MessagingDeps, 'realtime'>,
  userIds: readonly string[],
  frameFor: (connection: ConnectionRecord) => ServerFrame | readonly ServerFrame[] | null,
): Promise<FanoutResult> {
  const result: FanoutResult = { sent: 0, gone: 0, failed: 0, unreached: [] };
  if (userIds.length === 0) return result;
  const byUser = await realtime.registry.connectionsOf(userIds);
  const posts: Promise<void>[] = [];
  for (const [userId, connections] of byUser) {
    if (connections.length === 0) result.unreached.push(userId);
    for (const connection of connections) {
      const frames = frameFor(connection);
      if (!frames) continue;
      // One connection's frames go one after another, so it sees them in order; connections in parallel.
      const list: readonly ServerFrame[] = Array.isArray(frames) ? frames : [frames];
      posts.push(
        list.reduce<Promise<void>>(
          (previous, frame) => previous.then(() => post(realtime, connection, frame, result)),
          Promise.resolve(),
        ),
      );
    }
  }
  await Promise.all(posts);
  return result;
}

function post(
  realtime: MessagingDeps['realtime'],
  connection: ConnectionRecord,
  frame: ServerFrame,
  result: FanoutResult,
) {
  return realtime.connections.post(connection.connectionId, frame).then(
    async (outcome) => {
      if (outcome === 'sent') {
        result.sent += 1;
        return;
      }
      result.gone += 1;
      // Gone for a connection still in its $connect means "not yet open": deleting its record would leave a
      // socket that opens with no record (a zombie that receives nothing live).
      if (Date.now() - connection.connectedAt < CONNECT_GRACE_MS) return;
      await realtime.registry.remove(connection.connectionId).catch(() => undefined);
    },
    () => {
      result.failed += 1;
    },
  );
}

const isDevice = (connection: ConnectionRecord, device: DeviceRef) =>
  connection.userId === device.userId && connection.deviceId === device.deviceId;

/**
 * Delivers a stored message to the members' connections: each device its own envelope (or the group's
 * sender-key ciphertext); the sending device gets nothing (it has the plaintext).
 */
export function deliverMessage(
  deps: Pick<MessagingDeps, 'realtime'>,
  sender: DeviceRef,
  stored: StoredMessage,
  request: Parameters<typeof ciphertextFor>[0],
): Promise<FanoutResult> {
  const envelopeFor = ciphertextFor(request);
  return publish(deps, stored.memberIds, (connection) => {
    if (connection.userId === null || connection.deviceId === null || isDevice(connection, sender)) return null;
    const envelope = envelopeFor({ userId: connection.userId, deviceId: connection.deviceId });
    if (!envelope) return null;
    return {
      type: 'entry',
      conversationId: stored.conversationId,
      entry: {
        seq: stored.seq,
        type: 'message',
        senderId: sender.userId,
        senderDeviceId: sender.deviceId,
        createdAt: stored.createdAt,
        envelope,
      },
    };
  });
}

/** Publishes a conversation's new system events to every connection of the members (and of a removed one). */
export async function publishEvents(
  deps: Pick<MessagingDeps, 'realtime'>,
  events: PublishedEvents,
): Promise<FanoutResult> {
  const frames = events.entries.map(
    (entry): ServerFrame => ({
      type: 'entry',
      conversationId: events.conversationId,
      entry,
    }),
  );
  return publish(deps, events.userIds, () => frames);
}

/** Tells each sender that `reader`'s device received their messages (not for one's own messages). */
export async function publishDelivered(
  deps: Pick<MessagingDeps, 'realtime'>,
  reader: DeviceRef,
  acknowledged: readonly Acknowledged[],
  at: Date,
): Promise<FanoutResult> {
  const bySender = new Map<string, ReceiptFrame[]>();
  for (const ack of acknowledged) {
    if (ack.type !== 'message' || !ack.senderId || ack.senderId === reader.userId) continue;
    const frames = bySender.get(ack.senderId) ?? [];
    frames.push({
      type: 'receipt',
      conversationId: ack.conversationId,
      userId: reader.userId,
      status: 'delivered',
      seq: ack.seq,
      at: at.toISOString(),
    });
    bySender.set(ack.senderId, frames);
  }
  return publish(deps, [...bySender.keys()], (connection) => bySender.get(connection.userId ?? '') ?? null);
}
