import { type DeviceMismatch, ErrorCode } from '@ciphertalk/shared/protocol';

/**
 * A failure the client caused or may know about. The error middleware answers
 * `{ error: { code, message } }` with `status`; anything that is not an
 * AppError is a 500 whose details stay in the logs.
 */
export class AppError extends Error {
  override readonly name: string = 'AppError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: {
      cause?: unknown;
      issues?: readonly { path: string; message: string }[];
      retryAfterSeconds?: number;
      devices?: DeviceMismatch;
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.issues = options?.issues;
    this.retryAfterSeconds = options?.retryAfterSeconds;
    this.devices = options?.devices;
  }
  readonly issues: readonly { path: string; message: string }[] | undefined;
  /** `rate_limited` and `unavailable`: when the same request may be tried again (`Retry-After`). */
  readonly retryAfterSeconds: number | undefined;
  /** `devices_changed`: the typed device lists of the mismatch. */
  readonly devices: DeviceMismatch | undefined;
}

/** Seconds a client waits before retrying a request that met a dependency down or restarting. */
export const UNAVAILABLE_RETRY_SECONDS = 2;

/**
 * A dependency (PostgreSQL, Redis, DynamoDB) is down, restarting or resuming: `503 unavailable` with
 * `Retry-After` (a retryable error frame on the WebSocket), never a 500. Nothing the request did is known
 * to have happened, so the client sends the same request again (sends are idempotent by clientMessageId).
 */
export class UnavailableError extends AppError {
  override readonly name = 'UnavailableError';
  constructor(cause?: unknown, options: { retryAfterSeconds?: number } = {}) {
    super(503, ErrorCode.Unavailable, 'Service unavailable; try again shortly', {
      cause,
      retryAfterSeconds: options.retryAfterSeconds ?? UNAVAILABLE_RETRY_SECONDS,
    });
  }
}

export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  constructor(message: string, issues?: readonly { path: string; message: string }[]) {
    super(400, ErrorCode.ValidationFailed, message, { issues });
  }
}

export class InvalidJsonError extends AppError {
  override readonly name = 'InvalidJsonError';
  constructor(cause?: unknown) {
    super(400, ErrorCode.InvalidJson, 'The body is not valid JSON', { cause });
  }
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  constructor(message = 'Not found') {
    super(404, ErrorCode.NotFound, message);
  }
}

export class UnauthorizedError extends AppError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'Authentication required', code: string = ErrorCode.Unauthorized) {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  override readonly name = 'ForbiddenError';
  constructor(message = 'Not allowed') {
    super(403, ErrorCode.Forbidden, message);
  }
}

export class ConflictError extends AppError {
  override readonly name = 'ConflictError';
  constructor(message: string) {
    super(409, ErrorCode.Conflict, message);
  }
}
