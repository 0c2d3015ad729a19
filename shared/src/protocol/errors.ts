import { z } from 'zod';
import { text } from './text.ts';

/**
 * Every client-visible error, REST and WebSocket alike, has this shape.
 * `code` is stable and machine-readable; `message` is for people.
 */
export const ErrorCode = {
  InvalidJson: 'invalid_json',
  ValidationFailed: 'validation_failed',
  Unauthorized: 'unauthorized',
  /** Login failed: the same answer for an unknown email and a wrong password. */
  InvalidCredentials: 'invalid_credentials',
  /** A new password breaks the policy (length, not the email). */
  WeakPassword: 'weak_password',
  /** A password-reset token that is unknown, used or expired. */
  InvalidToken: 'invalid_token',
  /** A signed prekey whose signature does not verify with the device's identity key, or a malformed key. */
  InvalidKey: 'invalid_key',
  /** A user id in a request that names no account. */
  UnknownUser: 'unknown_user',
  /**
   * A message's envelopes do not match the conversation's devices (`devices`: the `missing` and `extra`
   * device lists): fetch the missing devices' bundles, drop the extra ones, and send again.
   */
  DevicesChanged: 'devices_changed',
  /**
   * A message names an attachment that is unknown, not the sender's, for another conversation, already used,
   * or whose upload is missing or not the declared size (`issues`: the attachment ids).
   */
  AttachmentInvalid: 'attachment_invalid',
  /** The user's attachments would pass their storage quota. */
  QuotaExceeded: 'quota_exceeded',
  Forbidden: 'forbidden',
  NotFound: 'not_found',
  Conflict: 'conflict',
  PayloadTooLarge: 'payload_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  RateLimited: 'rate_limited',
  UnknownAction: 'unknown_action',
  Internal: 'internal',
  Unavailable: 'unavailable',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const MismatchedDevice = z.object({ userId: text(), deviceId: z.number().int() });

/** `devices_changed`: the devices a message lacked and those it named that are not (or no longer) recipients. */
export const DeviceMismatch = z.object({ missing: z.array(MismatchedDevice), extra: z.array(MismatchedDevice) });
export type DeviceMismatch = z.infer<typeof DeviceMismatch>;

export const ErrorBody = z.object({
  error: z.object({
    code: text().min(1),
    message: text(),
    /** Validation errors: which fields failed, never their values; `devices_changed`: which devices. */
    issues: z.array(z.object({ path: text(), message: text() })).optional(),
    /**
     * `rate_limited` and `unavailable` (a dependency down, restarting or resuming): the client may try the
     * same request again after this many seconds (REST also sends it as `Retry-After`). The engine retries
     * these with backoff; every other code is final for that request.
     */
    retryAfterSeconds: z.number().int().min(0).max(86_400).optional(),
    devices: DeviceMismatch.optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
