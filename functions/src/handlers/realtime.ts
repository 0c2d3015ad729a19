import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { ClientFrame, ErrorCode } from '@ciphertalk/shared/protocol';
import { connectionRegistry } from '#adapters/clients/connection-registry.ts';
import { db } from '#adapters/clients/db.ts';
import { messagingDeps } from '#adapters/clients/messaging.ts';
import { realtime } from '#adapters/clients/realtime.ts';
import { realtimeLimits } from '#adapters/clients/realtime-limiter.ts';
import { type ConnectionCheck, ConnectionGuard } from '#domain/connection-guard.ts';
import { publishDelivered } from '#domain/fanout.ts';
import { acknowledge, type DeviceRef, type FanoutReport, sendMessage } from '#domain/messages.ts';
import { readReceipt, relayCallSignal, relayTyping } from '#domain/notices.ts';
import { heartbeat } from '#domain/presence.ts';
import { deviceKey, enforce, type RateLimitRule } from '#domain/rate-limits.ts';
import { reportFanout } from '#lib/fanout-report.ts';
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

/**
 * The fan-out report of a frame's send. The sender is connected (its frame came over its socket): a fan-out
 * that finds none of its connections means the registry lost records, and live delivery fails for others too.
 */
const reportOf =
  (sender: DeviceRef): FanoutReport =>
  (outcome) => {
    reportFanout(outcome);
    if ('unreached' in outcome && outcome.unreached.includes(sender.userId)) {
      metrics.addMetric('FanoutMissingConnection', MetricUnit.Count, 1);
    }
  };

export const handler = frameHandler(ClientFrame, async ({ frame, connectionId }) => {
  const check = await guard.check(connectionId, { heartbeat: frame.action === 'presence.heartbeat' });
  if (check.kind !== 'live') return turnAway(connectionId, frame.id, check);
  const { device } = check;
  const rule = frameLimits[frame.action];
  if (rule) await enforce(realtimeLimits(), rule, deviceKey(device));
  const deps = messagingDeps();
  const now = new Date();
  switch (frame.action) {
    case 'message.send':
      // Durable first; then the ack and the deliveries together. A failed delivery is reported, never an error frame.
      await sendMessage({ ...deps, report: reportOf(device) }, device, frame.conversationId, frame.message, (stored) =>
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
