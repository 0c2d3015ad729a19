/**
 * Reconnect delays: exponential from `baseMs`, capped at `maxMs`, with full jitter (AWS architecture blog).
 * The cap is 5 s: after a restart of the server (or the twin) clients are back within seconds, and full
 * jitter still spreads a reconnect storm over the whole interval.
 */
export const RECONNECT_MAX_DELAY_MS = 5_000;

export function backoffDelay(
  attempt: number,
  options: { baseMs?: number; maxMs?: number; random?: () => number } = {},
): number {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? RECONNECT_MAX_DELAY_MS;
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt));
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/**
 * How long to wait before trying a `rate_limited` / `unavailable` request again: the server's
 * `retryAfterSeconds` when it gave one, never less than the backoff's floor, capped at 30 s.
 */
export function retryDelay(attempt: number, retryAfterSeconds: number | null, random = Math.random): number {
  const backoff = backoffDelay(attempt, { baseMs: 250, maxMs: 8_000, random });
  const asked = retryAfterSeconds === null ? 0 : retryAfterSeconds * 1000;
  return Math.min(30_000, Math.max(asked, backoff));
}
