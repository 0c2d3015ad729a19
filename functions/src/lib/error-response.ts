import { type ErrorBody, ErrorCode } from '@ciphertalk/shared/protocol';
import { AppError } from '#domain/errors.ts';
import { logger } from './observability.ts';

/**
 * The one mapping from a thrown value to what a client may see: an AppError's
 * status, code and message; for anything else a bare 500 (details only in the log).
 */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof AppError && error.status < 500) {
    const issues = error.issues ? { issues: [...error.issues] } : {};
    const devices = error.devices ? { devices: error.devices } : {};
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, ...issues, ...devices } },
    };
  }
  logger.error('unhandled error', { error: error instanceof Error ? error : String(error) });
  const status = error instanceof AppError ? error.status : 500;
  const code = status === 503 ? ErrorCode.Unavailable : ErrorCode.Internal;
  return {
    status,
    body: { error: { code, message: status === 503 ? 'Service unavailable' : 'Internal server error' } },
  };
}
