import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { MiddlewareObj } from '@middy/core';
import { logger, metrics } from './observability.ts';

/**
 * One line per invocation with its status and latency, the correlation ids on
 * every line the invocation logs, and the `HandlerLatency` / `ServerErrors` metrics.
 * `describe` picks the fields to log: never bodies, headers or tokens.
 */
export function requestLog<Event, Result extends { statusCode?: number }>(
  message: string,
  correlationIds: (event: Event) => Record<string, unknown>,
  describe: (event: Event) => Record<string, unknown>,
): MiddlewareObj<Event, Result> {
  let started = 0;
  const done: MiddlewareObj<Event, Result>['after'] = async (request) => {
    const latencyMs = Date.now() - started;
    const status = request.response?.statusCode ?? 500;
    metrics.addMetric('HandlerLatency', MetricUnit.Milliseconds, latencyMs);
    if (status >= 500) metrics.addMetric('ServerErrors', MetricUnit.Count, 1);
    logger.info(message, { ...describe(request.event), status, latencyMs });
  };
  return {
    before: async (request) => {
      started = Date.now();
      logger.appendKeys(correlationIds(request.event));
    },
    after: done,
    onError: done,
  };
}
