/**
 * Tries a request again while the server answers `unavailable` or `rate_limited` (REST and WebSocket alike):
 * after the server's `retryAfterSeconds`, never sooner than a capped exponential backoff, a few times.
 * `onRetrying` is told when a wait starts and ends (the UI shows "Connecting…" meanwhile).
 */
import { retryDelay } from './backoff.ts';
import { isRetryable } from './errors.ts';

export interface RetryOptions {
  /** Attempts in all (default 5); 1 for a request that is not safe to repeat. */
  attempts?: number;
  onRetrying?: (waiting: boolean) => void;
  sleep?: (ms: number) => Promise<void>;
  log?: (event: string, detail?: Record<string, unknown>) => void;
  /** Names the request in the log. */
  what?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetries<T>(work: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isRetryable(error) || attempt + 1 >= attempts) throw error;
      const wait = retryDelay(attempt, error.retryAfterSeconds);
      options.log?.('request.retrying', { what: options.what, code: error.code, waitMs: wait });
      options.onRetrying?.(true);
      try {
        await (options.sleep ?? sleep)(wait);
      } finally {
        options.onRetrying?.(false);
      }
    }
  }
}
