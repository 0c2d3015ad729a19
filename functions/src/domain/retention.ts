import type { Db } from '#ports/db.ts';

/** Rows a sweep statement touches at a time, so no statement holds locks on a big table for long. */
const BATCH = 5_000;

export interface SweepResult {
  /** Deliveries of messages older than the retention period (undelivered ciphertext and ack markers). */
  expiredDeliveries: number;
  /** Deliveries owed to revoked devices, which will never fetch them. */
  revokedDeliveries: number;
  /** Sender-key ciphertexts no device still needs, or older than the retention period. */
  senderKeyCiphertexts: number;
}

async function inBatches(db: Db, sql: string, params: readonly unknown[]): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await db.query<{ n: string }>(sql, [...params, String(BATCH)]);
    const n = Number(rows[0]?.n ?? 0);
    total += n;
    if (n < BATCH) return total;
  }
}

/**
 * Retention: the server keeps ciphertext only as long as a device may still need it. Acknowledged
 * deliveries already lost theirs; this removes what is older than `retentionDays` (undelivered envelopes
 * and ack markers), what revoked devices were owed, and sender-key ciphertexts once every recipient
 * device has acknowledged them. Message rows (seq, sender, time; no content) stay as the timeline.
 */
export async function sweepRetention(db: Db, now: Date, retentionDays: number): Promise<SweepResult> {
  const cutoff = new Date(now.getTime() - retentionDays * 24 * 60 * 60 * 1000).toISOString();
  const expiredDeliveries = await inBatches(
    db,
    `WITH doomed AS (
       SELECT d.id FROM deliveries d JOIN messages m ON m.conversation_id = d.conversation_id AND m.seq = d.seq
        WHERE m.created_at < $1::timestamptz LIMIT $2::int),
     gone AS (DELETE FROM deliveries WHERE id IN (SELECT id FROM doomed) RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    [cutoff],
  );
  const revokedDeliveries = await inBatches(
    db,
    `WITH doomed AS (
       SELECT d.id FROM deliveries d JOIN devices v ON v.user_id = d.user_id AND v.device_id = d.device_id
        WHERE v.revoked_at IS NOT NULL LIMIT $1::int),
     gone AS (DELETE FROM deliveries WHERE id IN (SELECT id FROM doomed) RETURNING 1)
     SELECT count(*) AS n FROM gone`,
    [],
  );
  const senderKeyCiphertexts = await inBatches(
    db,
    `WITH doomed AS (
       SELECT m.conversation_id, m.seq FROM messages m
        WHERE m.sender_key_ciphertext IS NOT NULL
          AND (m.created_at < $1::timestamptz OR NOT EXISTS (
               SELECT 1 FROM deliveries d
                WHERE d.conversation_id = m.conversation_id AND d.seq = m.seq AND d.acked_at IS NULL))
        LIMIT $2::int),
     cleared AS (
       UPDATE messages m SET sender_key_ciphertext = NULL FROM doomed
        WHERE m.conversation_id = doomed.conversation_id AND m.seq = doomed.seq RETURNING 1)
     SELECT count(*) AS n FROM cleared`,
    [cutoff],
  );
  return { expiredDeliveries, revokedDeliveries, senderKeyCiphertexts };
}
