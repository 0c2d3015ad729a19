import { ClientFrame } from '@ciphertalk/shared/protocol';
import { connectionRegistry } from '#adapters/clients.ts';
import { messagingDeps } from '#adapters/messaging.ts';
import { UnauthorizedError } from '#domain/errors.ts';
import { publishDelivered } from '#domain/fanout.ts';
import { acknowledge, type DeviceRef, sendMessage } from '#domain/messages.ts';
import { readReceipt, relayCallSignal, relayTyping } from '#domain/notices.ts';
import { heartbeat } from '#domain/presence.ts';
import { reportFanout } from '#lib/fanout-report.ts';
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
  const deps = messagingDeps();
  const now = new Date();
  switch (frame.action) {
    case 'message.send':
      // Durable first; then the ack and the deliveries together. A failed delivery is reported, never an error frame.
      await sendMessage({ ...deps, report: reportFanout }, device, frame.conversationId, frame.message, (stored) =>
        reply(connectionId, {
          type: 'ack',
          id: frame.id,
          seq: stored.seq,
          createdAt: stored.createdAt,
          created: stored.created,
        }),
      );
      return;
    case 'message.ack': {
      const acknowledged = await acknowledge(deps, device, frame.deliveries);
      await reply(connectionId, { type: 'ack', id: frame.id });
      await publishDelivered(deps, device, acknowledged, now);
      return;
    }
    case 'receipt.read':
      await readReceipt(deps, device, frame.conversationId, frame.seq, now);
      break;
    case 'typing':
      await relayTyping(deps, device, frame);
      break;
    case 'presence.heartbeat':
      await heartbeat(deps, device.userId, now);
      break;
    case 'call.signal':
      await relayCallSignal(deps, device, frame);
      break;
    case 'ping':
      break;
  }
  await reply(connectionId, { type: 'ack', id: frame.id });
});
