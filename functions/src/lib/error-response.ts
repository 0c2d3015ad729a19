import { type ErrorBody, ErrorCode } from '@ciphertalk/shared/protocol';
import { isDependencyDown } from '#adapters/dependency-errors.ts';
import { AppError, UnavailableError } from '#domain/errors.ts';
import { logger, metrics } from './observability.ts';

/**
 * The one mapping from a thrown value to what a client may see: an AppError's status, code and message
 * (and `retryAfterSeconds` for `rate_limited` and `unavailable`); a dependency that is down or restarting
 * is `503 unavailable` with a retry time; anything else a bare 500 (details only in the log).
 */
export function toErrorBody(error: unknown): { status: number; body: ErrorBody; retryAfterSeconds?: number } {
  if (!(error instanceof AppError) && isDependencyDown(error)) {
    logger.warn('dependency unavailable', { error: error instanceof Error ? error.message : String(error) });
    metrics.addMetric('DependencyUnavailable', 'Count', 1);
    return toErrorBody(new UnavailableError(error));
  }
  if (error instanceof AppError && (error.status < 500 || error instanceof UnavailableError)) {
    const issues = error.issues ? { issues: [...error.issues] } : {};
    const devices = error.devices ? { devices: error.devices } : {};
    const retry = error.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: error.retryAfterSeconds };
    return {
      status: error.status,
      body: { error: { code: error.code, message: error.message, ...issues, ...devices, ...retry } },
      ...retry,
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
