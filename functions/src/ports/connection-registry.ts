/** A live WebSocket connection, as API Gateway identifies it. */
export interface ConnectionRecord {
  readonly connectionId: string;
  /** Null only for records written before $connect required a ticket. */
  readonly userId: string | null;
  /** The user's device number (the E2E library's ProtocolAddress device id). */
  readonly deviceId: number | null;
  readonly connectedAt: number;
  /** The session whose ticket opened it: frames are served only while that session is live. */
  readonly sessionId?: string | null;
  /** Epoch ms the record was last re-asserted by a frame from the connection (`refresh`). */
  readonly refreshedAt?: number;
}

/**
 * API Gateway closes a connection that sent nothing for 10 minutes, and frames re-assert their records (at
 * least every heartbeat), so a record neither connected nor refreshed within this is a connection that died
 * without `$disconnect`. Such records do not count towards a user's connection cap.
 */
export const RECORD_STALE_AFTER_MS = 11 * 60 * 1000;

/** When a connection was last known to be alive. */
export const lastActivity = (record: ConnectionRecord) => Math.max(record.connectedAt, record.refreshedAt ?? 0);

/** A WebSocket ticket waiting for its `$connect`: whose it is, and until when it is good. */
export interface WsTicketRecord {
  readonly deviceId: number;
  readonly sessionId: string;
  /** Epoch milliseconds. */
  readonly issuedAt: number;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/** What the registry knows of a user's presence. */
export interface PresenceRecord {
  /** A heartbeat (or a connection) within the presence TTL, and no disconnect since. */
  readonly online: boolean;
  /** Epoch ms of the last heartbeat or disconnect; null when none is remembered. */
  readonly lastSeenAt: number | null;
}

/** How long a user's last-seen time is remembered after they went offline. */
export const LAST_SEEN_TTL_SECONDS = 90 * 24 * 60 * 60;

/** Revocation markers live a little longer than any ticket issued before them. */
export const REVOCATION_MARKER_TTL_SECONDS = 120;

/**
 * Who is connected where, and who may connect next (single-use WebSocket tickets). Redis in AWS (ElastiCache) and when REDIS_URL is set;
 * an in-process map otherwise. Both pass test/connection-registry.contract.ts.
 */
export interface ConnectionRegistry {
  add(connection: ConnectionRecord): Promise<void>;
  /**
   * Re-asserts a record that still exists (its TTLs renewed, `refreshedAt` written) and answers true; answers
   * false, writing nothing, when the registry has no record of the connection (lost in a Redis restart,
   * failover or eviction): its owner may have missed deliveries.
   */
  refresh(connection: ConnectionRecord): Promise<boolean>;
  /** Forgets the connection; returns what was known of it (null when nothing was). */
  remove(connectionId: string): Promise<ConnectionRecord | null>;
  get(connectionId: string): Promise<ConnectionRecord | null>;
  /** Every live connection of each user, in one round trip. */
  connectionsOf(userIds: readonly string[]): Promise<Map<string, ConnectionRecord[]>>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  /** Keeps a ticket (by its hash) of `userId` for `ttlSeconds`. */
  addTicket(userId: string, ticketHash: string, ticket: WsTicketRecord, ttlSeconds: number): Promise<void>;
  /** Removes and returns a ticket: of concurrent takes of one ticket, exactly one gets it. */
  takeTicket(userId: string, ticketHash: string): Promise<WsTicketRecord | null>;
  /** Drops every outstanding ticket of a user (a device or session of theirs was revoked). */
  revokeTickets(userId: string): Promise<void>;
  /**
   * Notes that what `marker` names (`all`, `device:<n>`, `session:<id>`) of `userId` was revoked at `at`
   * (epoch ms), for REVOCATION_MARKER_TTL_SECONDS: `$connect` refuses tickets issued before it.
   */
  recordRevocation(userId: string, marker: string, at: number): Promise<void>;
  /** The user's live revocation markers: marker -> epoch ms. */
  revocations(userId: string): Promise<Record<string, number>>;

  /** Presence: the user is online until `ttlSeconds` from now. True when they were not online before. */
  markOnline(userId: string, at: number, ttlSeconds: number): Promise<boolean>;
  /** Presence: the user went offline at `at` (their last connection closed). */
  markOffline(userId: string, at: number): Promise<void>;
  /** Presence of each user, in one round trip. */
  presenceOf(userIds: readonly string[]): Promise<Map<string, PresenceRecord>>;
  /**
   * Counts one more event under `key` in a fixed window of `windowSeconds` and returns the count so far
   * (rate limits that need Redis speed, such as typing notices).
   */
  hit(key: string, windowSeconds: number): Promise<number>;
}
