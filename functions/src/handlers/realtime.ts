import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ClientFrame, ErrorCode } from '@ciphertalk/shared/protocol';
import { connectionRegistry } from '#adapters/clients/connection-registry.ts';
import { db } from '#adapters/clients/db.ts';
import { objectStore } from '#adapters/clients/object-store.ts';
import { realtime } from '#adapters/clients/realtime.ts';
import { realtimeLimits } from '#adapters/clients/realtime-limiter.ts';
import { type ConnectionCheck, ConnectionGuard } from '#domain/connection-guard.ts';
import { deliverMessage, publishDelivered } from '#domain/fanout.ts';
import { acknowledge, storeMessage } from '#domain/messages.ts';
import { readReceipt, relayCallSignal, relayTyping } from '#domain/notices.ts';
import { heartbeat } from '#domain/presence.ts';
import { deviceKey, enforce, type RateLimitRule } from '#domain/rate-limits.ts';
import { logger, metrics } from '#lib/observability.ts';
import { frameHandler, reply } from '#lib/ws.ts';
import { systemClock } from '#ports/clock.ts';

/**
 * The messaging routes of the WebSocket API, selected by the frame's `action`: message.send, message.ack,
 * receipt.read, typing, presence.heartbeat, call.signal. Each frame is validated with the shared schema and
 * answered with an `ack` (or, by frameHandler, an `error`) carrying its id. Before any work the connection
 * is checked (`ConnectionGuard`: registered, its record re-asserted, its session live) and the frame counted
 * against its device's real-time limit.
 */

const guard = new ConnectionGuard({ registry: connectionRegistry(), db: db(), clock: systemClock });

/** Frames that count against a per-device real-time limit. */
const frameLimits: Partial<Record<ClientFrame['action'], RateLimitRule>> = {
  'message.send': 'messagesPerDevice',
  'call.signal': 'callSignalsPerDevice',
  'receipt.read': 'readReceiptsPerDevice',
};

/**
 * A frame from a connection the registry lost or whose session ended: answered `unauthorized`, then the
 * socket is closed, so the client reconnects with a fresh ticket (and catches up on what it missed).
 */
async function turnAway(connectionId: string, id: string, check: Exclude<ConnectionCheck, { kind: 'live' }>) {
  guard.forget(connectionId);
  if (check.kind === 'lost') {
    metrics.addMetric('ConnectionRecordLost', MetricUnit.Count, 1);
    logger.warn('frame from a connection the registry does not know; asking it to reconnect');
  }
  const message = check.kind === 'lost' ? 'Reconnect: this connection is not registered' : 'The session has ended';
  await reply(connectionId, { type: 'error', id, error: { code: ErrorCode.Unauthorized, message } });
  await realtime().connections.disconnect(connectionId);
  if (check.kind === 'ended') await connectionRegistry().remove(connectionId);
}

export const handler = frameHandler(ClientFrame, async ({ frame, connectionId }) => {
  const check = await guard.check(connectionId, { heartbeat: frame.action === 'presence.heartbeat' });
  if (check.kind !== 'live') return turnAway(connectionId, frame.id, check);
  const { device } = check;
  const rule = frameLimits[frame.action];
  if (rule) await enforce(realtimeLimits(), rule, deviceKey(device));
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
      // The sender is connected (this frame came over its socket): a fan-out that finds none of its
      // connections means the registry lost records, and live delivery is failing for others too.
      if (result?.unreached.includes(device.userId)) metrics.addMetric('FanoutMissingConnection', MetricUnit.Count, 1);
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
