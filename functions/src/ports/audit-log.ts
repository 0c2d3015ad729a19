/** What happened to an account, for the account's owner (`GET /me/audit`) and for investigations. */
export const AuditEventType = [
  'account_registered',
  'login_succeeded',
  'login_failed',
  'logout',
  'logout_all',
  'session_revoked',
  'refresh_token_reused',
  'password_changed',
  'password_reset_requested',
  'password_reset_completed',
  'device_registered',
  'device_revoked',
  'rate_limited',
] as const;
export type AuditEventType = (typeof AuditEventType)[number];

export interface AuditEvent {
  readonly userId: string;
  readonly type: AuditEventType;
  readonly at: Date;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly sessionId?: string | null;
  readonly deviceId?: number | null;
  /** Small non-secret facts (`reason`, `revokedSessions`...). Never tokens, passwords or hashes. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

export interface AuditPage {
  readonly events: readonly AuditEvent[];
  readonly nextCursor: string | null;
}

/** Append-only per-user event log (DynamoDB). */
export interface AuditLog {
  record(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(userId: string, options: { limit: number; cursor?: string | undefined; now: Date }): Promise<AuditPage>;
}
