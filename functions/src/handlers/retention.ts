import { db } from '#adapters/clients.ts';
import { config } from '#config';
import { sweepRetention } from '#domain/retention.ts';
import { logger } from '#lib/observability.ts';

/**
 * The retention sweep, on a schedule (`schedules` in the route table: an EventBridge rule in AWS, a timer
 * in the local twin): removes ciphertext older than MESSAGE_RETENTION_DAYS and what no device needs.
 */
export const handler = async () => {
  const result = await sweepRetention(db(), new Date(), config.messageRetentionDays);
  logger.info('retention sweep', { ...result, retentionDays: config.messageRetentionDays });
  return result;
};
