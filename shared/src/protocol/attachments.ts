import { z } from 'zod';
import { text } from './text.ts';

/**
 * Encrypted attachments. The browser encrypts a file (a fresh key per file, chunked: the crypto library's
 * attachments), asks for an upload slot, and uploads the ciphertext straight to S3 with a presigned POST
 * whose policy pins the key, the exact size and the content type. The key, digest, name, real type and size
 * travel inside the encrypted message; the message names the attachment ids in clear (`attachmentIds`) so
 * the server can check them. Recipients fetch a short-lived presigned GET, issued to members only.
 */

export const AttachmentId = z.uuid();
/** The ciphertext's content type: the real one travels encrypted. */
export const ATTACHMENT_CONTENT_TYPE = 'application/octet-stream';
/** Attachments one message may reference. */
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** `POST /attachments`: a slot for one ciphertext of exactly `size` bytes, for a conversation. */
export const CreateAttachmentRequest = z.strictObject({
  conversationId: z.uuid(),
  size: z
    .number()
    .int()
    .min(1)
    .max(5 * 1024 ** 3),
});
export type CreateAttachmentRequest = z.infer<typeof CreateAttachmentRequest>;

export const UploadSlot = z.object({
  /** POST a multipart form to this URL: every field of `fields`, then `file` (the ciphertext) last. */
  url: z.url(),
  fields: z.record(text(), text()),
  expiresAt: z.iso.datetime(),
});
export type UploadSlot = z.infer<typeof UploadSlot>;

export const Attachment = z.object({
  id: AttachmentId,
  conversationId: z.uuid(),
  size: z.number().int().positive(),
  createdAt: z.iso.datetime(),
});
export type Attachment = z.infer<typeof Attachment>;

export const CreateAttachmentResponse = z.object({ attachment: Attachment, upload: UploadSlot });
export type CreateAttachmentResponse = z.infer<typeof CreateAttachmentResponse>;

export const AttachmentPath = z.object({ attachmentId: AttachmentId });

/** `GET /attachments/{id}`: a presigned GET of the ciphertext, valid a few minutes. */
export const AttachmentDownloadResponse = z.object({
  url: z.url(),
  expiresAt: z.iso.datetime(),
  size: z.number().int().positive(),
});
export type AttachmentDownloadResponse = z.infer<typeof AttachmentDownloadResponse>;
