import { ClientFrame } from '@ciphertalk/shared/protocol';
import { connectionRegistry } from '#adapters/clients/connection-registry.ts';
import { db } from '#adapters/clients/db.ts';
import { objectStore } from '#adapters/clients/object-store.ts';
import { realtime } from '#adapters/clients/realtime.ts';
import { UnauthorizedError } from '#domain/errors.ts';
import { deliverMessage, publishDelivered } from '#domain/fanout.ts';
import { acknowledge, type DeviceRef, storeMessage } from '#domain/messages.ts';
import { readReceipt, relayCallSignal, relayTyping } from '#domain/notices.ts';
import { heartbeat } from '#domain/presence.ts';
import { logger } from '#lib/observability.ts';
import { frameHandler, reply } from '#lib/ws.ts';

/**
 * The messaging routes of the WebSocket API, selected by the frame's `action`: message.send, message.ack,
 * receipt.read, typing, presence.heartbeat, call.signal. Each frame is validated with the shared schema and
 * answered with an `ack` (or, by frameHandler, an `error`) carrying its id.
 */

/** Connection -> device. A connection's device never changes, so it is looked up once per container. */
const devices = new Map<string, DeviceRef>();
const MAX_CACHED = 10_000;

async function connectionDevice(connectionId: string): Promise<DeviceRef> {
  const cached = devices.get(connectionId);
  if (cached) return cached;
  const record = await connectionRegistry().get(connectionId);
  if (!record?.userId || record.deviceId === null) throw new UnauthorizedError('This connection is not signed in');
  const device = { userId: record.userId, deviceId: record.deviceId };
  if (devices.size >= MAX_CACHED) devices.delete(devices.keys().next().value as string);
  devices.set(connectionId, device);
  return device;
}

export const handler = frameHandler(ClientFrame, async ({ frame, connectionId }) => {
  const device = await connectionDevice(connectionId);
  const now = new Date();
  switch (frame.action) {
    case 'message.send': {
      // Durable first (one statement); then the sender's ack and the deliveries go out together.
      const stored = await storeMessage(
        { db: db(), store: objectStore() },
        device,
        frame.conversationId,
        frame.message,
      );
      const { seq, createdAt, created } = stored;
      const [, result] = await Promise.all([
        reply(connectionId, { type: 'ack', id: frame.id, seq, createdAt, created }),
        created ? deliverMessage(realtime(), device, stored, frame.message) : null,
      ]);
      if (result && result.failed > 0) logger.warn('some deliveries failed; recipients will sync', { ...result });
      return;
    }
    case 'message.ack': {
      const acknowledged = await acknowledge(db(), device, frame.deliveries);
      await reply(connectionId, { type: 'ack', id: frame.id });
      await publishDelivered(realtime(), device, acknowledged, now);
      return;
    }
    case 'receipt.read':
      await readReceipt(db(), realtime(), device, frame.conversationId, frame.seq, now);
      break;
    case 'typing':
      await relayTyping(db(), realtime(), device, frame);
      break;
    case 'presence.heartbeat':
      await heartbeat(db(), realtime(), device.userId, now);
      break;
    case 'call.signal':
      await relayCallSignal(db(), realtime(), device, frame);
      break;
    case 'ping':
      break;
  }
  await reply(connectionId, { type: 'ack', id: frame.id });
});
