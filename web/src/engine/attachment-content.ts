/**
 * What a message says about a file, inside the ciphertext: where it is (`id`, the upload), how to open it (`key`,
 * `digest` of the ciphertext, both base64), and what it is (name, MIME type, plaintext size, image/video
 * dimensions), plus an optional thumbnail uploaded the same way. The server sees only the ids.
 */
import { z } from 'zod';

export const MAX_ATTACHMENTS = 10;
export const MAX_FILE_NAME_LENGTH = 255;
/** The largest dimension a thumbnail may claim (they are made at 320 px or less). */
const MAX_DIMENSION = 65_535;

/** 32 bytes, base64 (44 characters with padding). */
const Bytes32 = z.base64().length(44);
/** `type/subtype`, lower case, no parameters. */
const MimeType = z
  .string()
  .max(127)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/);
/** A file's name as shown and saved: no path separators, no control characters. */
const FileName = z
  .string()
  .min(1)
  .max(MAX_FILE_NAME_LENGTH)
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to refuse them
  .refine((name) => !/[\u0000-\u001f\u007f/\\]/.test(name) && name !== '.' && name !== '..', {
    message: 'Not a file name',
  });
const Dimension = z.number().int().min(1).max(MAX_DIMENSION);

export const ThumbnailRef = z.object({
  id: z.uuid(),
  key: Bytes32,
  digest: Bytes32,
  type: MimeType,
  width: Dimension,
  height: Dimension,
});
export type ThumbnailRef = z.infer<typeof ThumbnailRef>;

export const AttachmentRef = z.object({
  id: z.uuid(),
  key: Bytes32,
  digest: Bytes32,
  name: FileName,
  type: MimeType,
  /** Plaintext bytes. */
  size: z
    .number()
    .int()
    .min(0)
    .max(5 * 1024 ** 3),
  width: Dimension.optional(),
  height: Dimension.optional(),
  durationSeconds: z.number().min(0).max(1e7).optional(),
  thumbnail: ThumbnailRef.optional(),
});
export type AttachmentRef = z.infer<typeof AttachmentRef>;
