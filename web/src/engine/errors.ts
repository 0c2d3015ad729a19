/**
 * What engine actions reject with. `code` is the server's error code (`invalid_credentials`,
 * `devices_changed`, ...) or one of the engine's own (`network`, `signed_out`, `crypto`); `status` is the HTTP
 * status when the server answered.
 */
export class EngineError extends Error {
  readonly code: string;
  readonly status: number | null;
  readonly issues: readonly { path: string; message: string }[];

  constructor(
    code: string,
    message: string,
    options: { status?: number | null; issues?: readonly { path: string; message: string }[]; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'EngineError';
    this.code = code;
    this.status = options.status ?? null;
    this.issues = options.issues ?? [];
  }
}

export const isEngineError = (error: unknown, code?: string): error is EngineError =>
  error instanceof EngineError && (code === undefined || error.code === code);
