/** A live WebSocket connection, as API Gateway identifies it. */
export interface ConnectionRecord {
  readonly connectionId: string;
  /** Null until the connection is authenticated (accounts issue). */
  readonly userId: string | null;
  readonly deviceId: string | null;
  readonly connectedAt: number;
}

/**
 * Who is connected where. Redis in AWS (ElastiCache) and when REDIS_URL is set;
 * an in-process map otherwise. Both pass test/connection-registry.contract.ts.
 */
export interface ConnectionRegistry {
  add(connection: ConnectionRecord): Promise<void>;
  /** Forgets the connection; returns what was known of it (null when nothing was). */
  remove(connectionId: string): Promise<ConnectionRecord | null>;
  get(connectionId: string): Promise<ConnectionRecord | null>;
  /** Every live connection of each user, in one round trip. */
  connectionsOf(userIds: readonly string[]): Promise<Map<string, ConnectionRecord[]>>;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
}
