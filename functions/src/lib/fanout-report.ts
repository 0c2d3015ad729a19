import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FanoutReport } from '#domain/messages.ts';
import { logger, metrics } from './observability.ts';

/**
 * What a message's live delivery did, for the operators: posts that failed (or a fan-out that threw) are a
 * warning and the `FanoutFailures` metric; stale connections found are `FanoutGone`. The sender never sees
 * these: its message is stored and acknowledged, and recipients that missed it get it from `GET /sync`.
 */
export const reportFanout: FanoutReport = (outcome) => {
  if ('error' in outcome) {
    metrics.addMetric('FanoutFailures', MetricUnit.Count, 1);
    logger.warn('could not deliver live; recipients will sync', { error: String(outcome.error) });
    return;
  }
  if (outcome.gone > 0) metrics.addMetric('FanoutGone', MetricUnit.Count, outcome.gone);
  if (outcome.failed > 0) {
    metrics.addMetric('FanoutFailures', MetricUnit.Count, outcome.failed);
    logger.warn('some deliveries failed; recipients will sync', { ...outcome });
  }
};
