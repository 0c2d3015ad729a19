import { db } from '#adapters/clients/db.ts';
import { objectStore } from '#adapters/clients/object-store.ts';
import { config } from '#config';
import { sweepUploads } from '#domain/attachments.ts';
import { sweepRetention } from '#domain/retention.ts';
import { logger } from '#lib/observability.ts';

/**
 * The retention sweep, on a schedule (`schedules` in the route table: an EventBridge rule in AWS, a timer
 * in the local twin): removes ciphertext older than MESSAGE_RETENTION_DAYS and what no device needs, and
 * uploads no message referenced within a day (the S3 lifecycle rule does that too, by tag).
 */
export const handler = async () => {
  const now = new Date();
  const result = await sweepRetention(db(), now, config.messageRetentionDays);
  const unreferencedUploads = await sweepUploads({ db: db(), store: objectStore() }, now);
  logger.info('retention sweep', { ...result, unreferencedUploads, retentionDays: config.messageRetentionDays });
  return { ...result, unreferencedUploads };
};
