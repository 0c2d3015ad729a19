/**
 * What travels inside the ciphertext: a versioned JSON content item. The server sees none of it. Every item
 * has its own end-to-end id (`id`), chosen by the sender, which is how edits, deletes, reactions, replies and
 * re-sent copies name a message whatever seq the server gave it.
 *
 * Version 1 kinds:
 * - `text`: a message (optionally a reply), with up to 10 `attachments` (then the text may be empty).
 * - `edit`, `delete`: the sender changes or withdraws one of their messages (`target`).
 * - `reaction`: toggles one emoji of the sender on a message (`on`).
 * - `sender_key`: the sender's Sender Key distribution for this group (pairwise only).
 * - `resend_request`: "I could not decrypt your message at `seq`": the named device sends it again.
 * - `call`: a call is over (sent by the caller): its media, outcome and duration, shown as a timeline event.
 * - `avatar`: the sender's own picture (`scope: 'user'`) or the group's (`'group'`), or null to remove it.
 * A `text` with `resendOf` is such a copy: receivers that already have `id` ignore it.
 * Old clients strip the unknown `attachments` field; a text without words or an `avatar` reads to them as
 * content they do not understand.
 */
import { z } from 'zod';
import { AttachmentRef, MAX_ATTACHMENTS } from './attachment-content.ts';
import { pad, unpad } from './padding.ts';

export { AttachmentRef, MAX_ATTACHMENTS } from './attachment-content.ts';

export const CONTENT_VERSION = 1;
export const MAX_TEXT_LENGTH = 8000;

const Id = z.uuid();
const Text = z.string().min(1).max(MAX_TEXT_LENGTH);
const DeviceRef = z.object({ userId: z.uuid(), deviceId: z.number().int().positive() });

export const Content = z.discriminatedUnion('kind', [
  z
    .object({
      v: z.literal(1),
      id: Id,
      kind: z.literal('text'),
      text: z.string().max(MAX_TEXT_LENGTH),
      replyTo: z.object({ id: Id, senderId: z.uuid().nullable(), excerpt: z.string().max(200) }).optional(),
      /** A copy sent because a recipient could not decrypt the original, stored at this seq. */
      resendOf: z.number().int().positive().optional(),
      attachments: z.array(AttachmentRef).min(1).max(MAX_ATTACHMENTS).optional(),
    })
    .refine((c) => c.text.length > 0 || (c.attachments?.length ?? 0) > 0, { message: 'A message needs text or files' }),
  z.object({ v: z.literal(1), id: Id, kind: z.literal('edit'), target: Id, text: Text }),
  z.object({ v: z.literal(1), id: Id, kind: z.literal('delete'), target: Id }),
  z.object({
    v: z.literal(1),
    id: Id,
    kind: z.literal('reaction'),
    target: Id,
    emoji: z.string().min(1).max(32),
    on: z.boolean(),
  }),
  z.object({ v: z.literal(1), id: Id, kind: z.literal('sender_key'), distribution: z.base64() }),
  z.object({
    v: z.literal(1),
    id: Id,
    kind: z.literal('avatar'),
    scope: z.enum(['user', 'group']),
    attachment: AttachmentRef.nullable(),
  }),
  z.object({
    v: z.literal(1),
    id: Id,
    kind: z.literal('resend_request'),
    seq: z.number().int().positive(),
    /** The device asked to send again (the original sender's). */
    device: DeviceRef,
  }),
  z.object({
    v: z.literal(1),
    id: Id,
    kind: z.literal('call'),
    callId: Id,
    media: z.enum(['audio', 'video']),
    outcome: z.enum(['completed', 'missed', 'declined', 'busy', 'cancelled', 'failed']),
    durationSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600),
  }),
]);
export type Content = z.infer<typeof Content>;
export type ContentKind = Content['kind'];

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Content to the padded bytes that get encrypted. */
export function encodeContent(content: Content): Uint8Array {
  return pad(encoder.encode(JSON.stringify(Content.parse(content))));
}

/** Decrypted bytes to content; throws on bad padding, bad UTF-8, bad JSON or an unknown shape/version. */
export function decodeContent(bytes: Uint8Array): Content {
  return Content.parse(JSON.parse(decoder.decode(unpad(bytes))));
}
