/**
 * What engine actions reject with. `code` is the server's error code (`invalid_credentials`,
 * `devices_changed`, ...) or one of the engine's own (`network`, `signed_out`, `crypto`, `off_contract`);
 * `status` is the HTTP status when the server answered.
 */
export interface DeviceMismatch {
  readonly missing: readonly { readonly userId: string; readonly deviceId: number }[];
  readonly extra: readonly { readonly userId: string; readonly deviceId: number }[];
}

export class EngineError extends Error {
  readonly code: string;
  readonly status: number | null;
  readonly issues: readonly { path: string; message: string }[];
  /** `rate_limited`, `unavailable`: the server's word on when to try again. */
  readonly retryAfterSeconds: number | null;
  /** `devices_changed`: which devices the message lacked and which it should not have had. */
  readonly devices: DeviceMismatch | null;

  constructor(
    code: string,
    message: string,
    options: {
      status?: number | null;
      issues?: readonly { path: string; message: string }[];
      retryAfterSeconds?: number | null;
      devices?: DeviceMismatch | null;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.status = options.status ?? null;
    this.issues = options.issues ?? [];
    this.retryAfterSeconds = options.retryAfterSeconds ?? null;
    this.devices = options.devices ?? null;
  }
}

export const isEngineError = (error: unknown, code?: string): error is EngineError =>
  error instanceof EngineError && (code === undefined || error.code === code);

/** The two answers that mean "the same request may succeed later" (REST and WebSocket alike). */
export const isRetryable = (error: unknown): error is EngineError =>
  isEngineError(error) && (error.code === 'unavailable' || error.code === 'rate_limited');
