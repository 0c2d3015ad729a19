import { type ErrorBody, ErrorCode } from '@ciphertalk/shared/protocol';
import { AppError, UnavailableError } from '#domain/errors.ts';
import { logger } from './observability.ts';

/**
 * The one mapping from a thrown value to what a client may see: an AppError's
 * status, code and message; for anything else a bare 500 (details only in the log).
 */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError && error.status < 500) {
    const issues = error.issues ? { issues: [...error.issues] } : {};
    return { status: error.status, body: { error: { code: error.code, message: error.message, ...issues } } };
  }
  if (error instanceof UnavailableError) {
    // Expected while a dependency comes back (a paused database resuming): the client retries.
    logger.warn('unavailable', { reason: error.message });
    const { retryAfterSeconds } = error;
    const message = 'Service unavailable; try again shortly';
    return { status: 503, body: { error: { code: ErrorCode.Unavailable, message, retryAfterSeconds } } };
  }
  logger.error('unhandled error', { error: error instanceof Error ? error : String(error) });
  const status = error instanceof AppError ? error.status : 500;
  const code = status === 503 ? ErrorCode.Unavailable : ErrorCode.Internal;
  return {
    status,
    body: { error: { code, message: status === 503 ? 'Service unavailable' : 'Internal server error' } },
  };
}
