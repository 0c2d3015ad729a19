import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Realtime } from '#domain/realtime.ts';
import { logger, metrics } from '#lib/observability.ts';
import type { AuditLog } from '#ports/audit-log.ts';
import type { Mailer } from '#ports/mailer.ts';
import type { RateLimiter } from '#ports/rate-limiter.ts';

/**
 * The audit log must not turn a DynamoDB hiccup into failed logins: a failed write is logged as an
 * error (with the event type and user, nothing secret) and the request goes on.
 */
export function bestEffortAudit(log: AuditLog): AuditLog {
  return {
    record: (event) =>
      log
        .record(event)
        .catch((error: unknown) =>
          logger.error('audit write failed', { type: event.type, userId: event.userId, error: String(error) }),
        ),
    list: (userId, options) => log.list(userId, options),
  };
}

/** The metric a failed account mail counts (CloudWatch namespace `CipherTalk`); the stack alarms on it. */
export const mailFailureMetric = 'AccountMailFailed';

/**
 * Account mail goes out after the answer is decided: a failed send (SES refusing, throttling, down) is
 * logged as an error and counted in `AccountMailFailed`, which raises an alarm, and the request answers as
 * if it had been sent. Answering differently would tell a caller which addresses have accounts (an unknown
 * address sends nothing, so it never fails). The recipient is never logged.
 */
export function bestEffortMailer(mailer: Mailer): Mailer {
  return {
    send: (mail) =>
      mailer.send(mail).catch((error: unknown) => {
        logger.error('account mail failed', { subject: mail.subject, error: String(error) });
        metrics.addMetric(mailFailureMetric, MetricUnit.Count, 1);
      }),
  };
}

/**
 * Rate limits fail open: when DynamoDB cannot be reached the request is let through and the failure
 * logged. Failing closed would let a DynamoDB outage lock every user out; the argon2 cost per guess still
 * bounds what an attacker gains meanwhile.
 */
export function failOpen(limiter: RateLimiter): RateLimiter {
  return {
    hit: (rule, key, limit, now, cost) =>
      limiter.hit(rule, key, limit, now, cost).catch((error: unknown) => {
        logger.error('rate limiter unavailable, allowing', { rule, error: String(error) });
        return { allowed: true, retryAfterSeconds: 0 };
      }),
  };
}

/**
 * Hanging up on a revoked device's sockets must not fail the revocation itself (its sessions are already
 * ended, so the next request is refused anyway): a failed disconnect is logged and skipped.
 */
export function bestEffortRealtime(realtime: Realtime): Realtime {
  return {
    registry: {
      add: (connection) => realtime.registry.add(connection),
      refresh: (connection) => realtime.registry.refresh(connection),
      remove: (id) => realtime.registry.remove(id),
      get: (id) => realtime.registry.get(id),
      ping: () => realtime.registry.ping(),
      addTicket: (userId, hash, ticket, ttl) => realtime.registry.addTicket(userId, hash, ticket, ttl),
      takeTicket: (userId, hash) => realtime.registry.takeTicket(userId, hash),
      revocations: (userId) => realtime.registry.revocations(userId),
      markOnline: (userId, at, ttl) => realtime.registry.markOnline(userId, at, ttl),
      markOffline: (userId, at) => realtime.registry.markOffline(userId, at),
      presenceOf: (userIds) => realtime.registry.presenceOf(userIds),
      hit: (key, window) => realtime.registry.hit(key, window),
      recordRevocation: (userId, marker, at) =>
        realtime.registry.recordRevocation(userId, marker, at).catch((error: unknown) => {
          logger.error('could not record a revocation marker', { userId, error: String(error) });
        }),
      revokeTickets: (userId) =>
        realtime.registry.revokeTickets(userId).catch((error: unknown) => {
          logger.error('could not revoke WebSocket tickets', { userId, error: String(error) });
        }),
      connectionsOf: (userIds) =>
        realtime.registry.connectionsOf(userIds).catch((error: unknown) => {
          logger.error('connection registry unavailable, not disconnecting', { error: String(error) });
          return new Map();
        }),
    },
    connections: {
      post: (id, data) => realtime.connections.post(id, data),
      disconnect: (id) =>
        realtime.connections.disconnect(id).catch((error: unknown) => {
          logger.error('could not disconnect', { connectionId: id, error: String(error) });
          return 'gone' as const;
        }),
    },
  };
}
