import {
  ATTACHMENT_CONTENT_TYPE,
  type Attachment,
  type CreateAttachmentRequest,
  ErrorCode,
  type UploadSlot,
} from '@ciphertalk/shared/protocol';
import type { Db } from '#ports/db.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import { AppError, NotFoundError } from './errors.ts';
import type { DeviceRef } from './messages.ts';
import { enforce, type RateLimitDeps } from './rate-limits.ts';

export interface AttachmentDeps extends RateLimitDeps {
  readonly db: Db;
  readonly store: ObjectStore;
  readonly limits: { readonly maxBytes: number; readonly quotaBytes: number };
}

/** An upload slot is good this long. */
export const UPLOAD_EXPIRES_SECONDS = 15 * 60;
/** A download link is good this long. */
export const DOWNLOAD_EXPIRES_SECONDS = 5 * 60;
/** Uploads no message references after this long are deleted (S3 lifecycle rule in AWS; the sweep too). */
export const UNREFERENCED_TTL_HOURS = 24;

/** The tag an object carries until a message references it: an S3 lifecycle rule expires it after a day. */
export const UNREFERENCED_TAG = { 'ciphertalk:state': 'unreferenced' } as const;
export const REFERENCED_TAG = { 'ciphertalk:state': 'referenced' } as const;

export const objectKey = (attachmentId: string) => `attachments/${attachmentId}`;

export class AttachmentTooLargeError extends AppError {
  override readonly name = 'AttachmentTooLargeError';
  constructor(maxBytes: number) {
    super(413, ErrorCode.PayloadTooLarge, `An attachment is at most ${maxBytes} bytes`);
  }
}

export class QuotaExceededError extends AppError {
  override readonly name = 'QuotaExceededError';
  constructor() {
    super(403, ErrorCode.QuotaExceeded, 'Your attachments would pass your storage quota');
  }
}

export class AttachmentInvalidError extends AppError {
  override readonly name = 'AttachmentInvalidError';
  constructor(issues: readonly { path: string; message: string }[]) {
    super(
      400,
      ErrorCode.AttachmentInvalid,
      'An attachment is unknown, not yours, for another conversation, already used, or not uploaded as declared',
      { issues },
    );
  }
}

/**
 * `POST /attachments`: a slot for one ciphertext of exactly `size` bytes in a conversation the caller is a
 * member of (the same 404 as an unknown conversation otherwise), within the size limit and the caller's
 * quota (pending uploads count; a user's slot requests are serialised on their row, so concurrent ones cannot
 * pass the quota together). The presigned POST pins key, size, content type and the unreferenced tag.
 */
export async function createUpload(
  deps: AttachmentDeps,
  userId: string,
  request: CreateAttachmentRequest,
): Promise<{ attachment: Attachment; upload: UploadSlot }> {
  if (request.size > deps.limits.maxBytes) throw new AttachmentTooLargeError(deps.limits.maxBytes);
  await enforce(deps, 'attachmentSlotsPerUser', userId);
  const [row] = await deps.db.transaction(async (tx) => {
    // One slot at a time per user: the sum below must see every slot committed before it, or two requests at
    // once could each pass the quota alone.
    await tx.query('SELECT 1 FROM users WHERE id = $1::uuid FOR UPDATE', [userId]);
    return tx.query<{ id: string | null; created_at: Date | null; member: boolean }>(
      `WITH me AS (
       SELECT 1 FROM conversation_members WHERE conversation_id = $1::uuid AND user_id = $2::uuid
     ), used AS (
       SELECT COALESCE(sum(size), 0) AS bytes FROM attachments WHERE owner_id = $2::uuid
     ), inserted AS (
       INSERT INTO attachments (owner_id, conversation_id, size)
       SELECT $2::uuid, $1::uuid, $3::bigint FROM used
        WHERE EXISTS (SELECT 1 FROM me) AND used.bytes + $3::bigint <= $4::bigint
       RETURNING id, created_at
     )
     SELECT (SELECT id FROM inserted) AS id, (SELECT created_at FROM inserted) AS created_at,
            EXISTS (SELECT 1 FROM me) AS member`,
      [request.conversationId, userId, String(request.size), String(deps.limits.quotaBytes)],
    );
  });
  if (!row?.member) throw new NotFoundError('No such conversation');
  if (!row.id || !row.created_at) throw new QuotaExceededError();
  const upload = await deps.store.presignUpload(
    objectKey(row.id),
    request.size,
    ATTACHMENT_CONTENT_TYPE,
    UPLOAD_EXPIRES_SECONDS,
    UNREFERENCED_TAG,
  );
  return {
    attachment: {
      id: row.id,
      conversationId: request.conversationId.toLowerCase(),
      size: request.size,
      createdAt: row.created_at.toISOString(),
    },
    upload: { url: upload.url, fields: upload.fields, expiresAt: upload.expiresAt.toISOString() },
  };
}

/**
 * `GET /attachments/{id}`: a short-lived presigned GET, for members of the conversation the attachment was
 * sent in, and for its uploader; everyone else gets the 404 of an unknown id.
 */
export async function downloadLink(
  deps: AttachmentDeps,
  userId: string,
  attachmentId: string,
): Promise<{ url: string; expiresAt: string; size: number }> {
  const [row] = await deps.db.query<{ size: string }>(
    `SELECT a.size FROM attachments a
      WHERE a.id = $1::uuid AND a.uploaded_at IS NOT NULL AND (
        a.owner_id = $2::uuid OR (a.message_seq IS NOT NULL AND EXISTS (
          SELECT 1 FROM conversation_members m WHERE m.conversation_id = a.conversation_id AND m.user_id = $2::uuid)))`,
    [attachmentId, userId],
  );
  if (!row) throw new NotFoundError('No such attachment');
  const { url, expiresAt } = await deps.store.presignDownload(objectKey(attachmentId), DOWNLOAD_EXPIRES_SECONDS);
  return { url, expiresAt: expiresAt.toISOString(), size: Number(row.size) };
}

/**
 * Before a message may carry attachments: each must be the sender's, for this conversation, and its object
 * must exist with exactly the declared size. That is checked here with HeadObject (the upload policy pins
 * the size, but an emulator does not enforce policies, and this check must not rely on them); a checked
 * object is retagged so the lifecycle rule keeps it. Attachments already used are left to `send_message`,
 * which accepts them only for a retry of the message that used them.
 */
export async function checkAttachments(
  deps: Pick<AttachmentDeps, 'db' | 'store'>,
  sender: DeviceRef,
  conversationId: string,
  attachmentIds: readonly string[],
): Promise<void> {
  const ids = attachmentIds.map((id) => id.toLowerCase());
  const placeholders = ids.map((_, i) => `$${i + 3}::uuid`).join(', ');
  const rows = await deps.db.query<{ id: string; size: string; uploaded: boolean; used: boolean }>(
    `SELECT id, size, uploaded_at IS NOT NULL AS uploaded, message_seq IS NOT NULL AS used FROM attachments
      WHERE owner_id = $1::uuid AND conversation_id = $2::uuid AND id IN (${placeholders})`,
    [sender.userId, conversationId, ...ids],
  );
  const known = new Map(rows.map((row) => [row.id, row]));
  // Each new upload: its size in the store, then the tag that keeps the lifecycle rule off it. The attachments of
  // one message (a photo and its thumbnail, say) are checked side by side, and marked uploaded in one statement.
  const outcomes = await Promise.all(
    ids.map(async (id): Promise<{ id: string; issue?: string; fresh?: boolean }> => {
      const row = known.get(id);
      if (!row) return { id, issue: 'unknown' };
      if (row.uploaded || row.used) return { id };
      const size = await deps.store.sizeOf(objectKey(id));
      if (size !== Number(row.size)) return { id, issue: size === null ? 'not uploaded' : 'not the declared size' };
      await deps.store.retag(objectKey(id), REFERENCED_TAG);
      return { id, fresh: true };
    }),
  );
  const issues = outcomes.flatMap(({ id, issue }) => (issue ? [{ path: id, message: issue }] : []));
  const fresh = outcomes.filter((outcome) => outcome.fresh).map((outcome) => outcome.id);
  if (fresh.length > 0) {
    await deps.db.query(
      `UPDATE attachments SET uploaded_at = now() WHERE id IN (${fresh.map((_, i) => `$${i + 1}::uuid`).join(', ')})`,
      fresh,
    );
  }
  if (issues.length > 0) throw new AttachmentInvalidError(issues);
}

/** Deletes uploads no message referenced within UNREFERENCED_TTL_HOURS: the objects, then their rows. */
export async function sweepUploads(deps: Pick<AttachmentDeps, 'db' | 'store'>, now: Date): Promise<number> {
  const cutoff = new Date(now.getTime() - UNREFERENCED_TTL_HOURS * 60 * 60 * 1000).toISOString();
  let total = 0;
  for (;;) {
    const rows = await deps.db.query<{ id: string }>(
      `SELECT id FROM attachments WHERE message_seq IS NULL AND created_at < $1::timestamptz LIMIT 500`,
      [cutoff],
    );
    if (rows.length === 0) return total;
    for (const row of rows) {
      await deps.store.remove(objectKey(row.id));
      await deps.db.query('DELETE FROM attachments WHERE id = $1::uuid AND message_seq IS NULL', [row.id]);
    }
    total += rows.length;
  }
}
