/**
 * Recognises an error that means a dependency is down, restarting or resuming rather than a bug: the
 * PostgreSQL server shutting down or refusing connections (node-postgres), Redis unreachable (ioredis), a
 * socket refused or reset, the Data API's `DatabaseResumingException` while Aurora Serverless wakes up, and
 * AWS SDK calls that timed out or met a 503. The error mapping answers these `503 unavailable` with
 * `Retry-After`, which clients retry, instead of a final `500 internal`.
 */
const PG_UNAVAILABLE = new Set([
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, shutting down, recovering)
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08006', // connection_failure
  '53300', // too_many_connections
]);
const NET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH']);
const NAMES = new Set([
  'MaxRetriesPerRequestError',
  'DatabaseResumingException',
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'TimeoutError',
]);
const MESSAGES = [
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /is not queryable/,
  /^Connection is closed/,
  /enableOfflineQueue/,
];

export function isDependencyDown(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { code, name, message, cause, errors, $metadata } = error as {
    code?: unknown;
    name?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (typeof code === 'string' && (PG_UNAVAILABLE.has(code) || NET_UNAVAILABLE.has(code))) return true;
  if (typeof name === 'string' && NAMES.has(name)) return true;
  if (typeof message === 'string' && MESSAGES.some((pattern) => pattern.test(message))) return true;
  if ($metadata?.httpStatusCode === 503) return true;
  // AggregateError (a refused connection to every address of a host).
  if (Array.isArray(errors) && errors.some((inner) => isDependencyDown(inner, depth + 1))) return true;
  return isDependencyDown(cause, depth + 1);
}
