import type { Clock } from '#ports/clock.ts';
import type { ConnectionRecord, ConnectionRegistry } from '#ports/connection-registry.ts';
import type { Db } from '#ports/db.ts';
import type { DeviceRef } from './messages.ts';
import { isSessionLive } from './sessions.ts';

/** What a frame's connection turned out to be. */
export type ConnectionCheck =
  | { readonly kind: 'live'; readonly device: DeviceRef; readonly sessionId: string }
  /** The registry has no record of it (lost in a Redis restart, failover or eviction): it must reconnect. */
  | { readonly kind: 'lost' }
  /** Its session has ended (logout, revocation, reuse of a refresh token, expiry). */
  | { readonly kind: 'ended'; readonly userId: string };

export interface ConnectionGuardOptions {
  /** How often a connection's frames re-assert its record (heartbeats always do). */
  readonly reassertMs: number;
  /** How long a check that the connection's session is live holds. */
  readonly sessionRecheckMs: number;
  readonly maxCached: number;
}

const DEFAULTS: ConnectionGuardOptions = { reassertMs: 20_000, sessionRecheckMs: 5_000, maxCached: 10_000 };

interface Entry {
  record: ConnectionRecord;
  assertedAt: number;
  sessionCheckedAt: number;
}

/**
 * Stands between a WebSocket frame and the work it asks for, per container:
 * - the registry is self-healing: a frame re-asserts its connection's record (at most every `reassertMs`, and
 *   on every heartbeat), and a connection whose record is gone is `lost`, so the caller tells it to reconnect
 *   (and so catch up) instead of serving a socket that fan-outs no longer find;
 * - a connection is served only while the session its ticket was issued for is live, checked at most every
 *   `sessionRecheckMs` (revocations also hang up on sockets at once; this is the backstop).
 * The connection's user, device and session never change, so they are cached; liveness is not.
 */
export class ConnectionGuard {
  readonly #entries = new Map<string, Entry>();
  readonly #options: ConnectionGuardOptions;

  constructor(
    private readonly deps: { readonly registry: ConnectionRegistry; readonly db: Db; readonly clock: Clock },
    options: Partial<ConnectionGuardOptions> = {},
  ) {
    this.#options = { ...DEFAULTS, ...options };
  }

  async check(connectionId: string, options: { heartbeat?: boolean } = {}): Promise<ConnectionCheck> {
    const now = this.deps.clock().getTime();
    let entry = this.#entries.get(connectionId);
    if (!entry) {
      const record = await this.deps.registry.get(connectionId);
      if (!record?.userId || record.deviceId === null) return { kind: 'lost' };
      entry = { record, assertedAt: now, sessionCheckedAt: Number.NEGATIVE_INFINITY };
      this.#remember(connectionId, entry);
      if (options.heartbeat && !(await this.#reassert(entry, now))) return this.#forget(connectionId, 'lost');
    } else if (options.heartbeat || now - entry.assertedAt >= this.#options.reassertMs) {
      if (!(await this.#reassert(entry, now))) return this.#forget(connectionId, 'lost');
    }
    const { userId, deviceId, sessionId } = entry.record as ConnectionRecord & { userId: string; deviceId: number };
    if (now - entry.sessionCheckedAt >= this.#options.sessionRecheckMs) {
      if (!sessionId || !(await isSessionLive(this.deps.db, sessionId, new Date(now)))) {
        this.#entries.delete(connectionId);
        return { kind: 'ended', userId };
      }
      entry.sessionCheckedAt = now;
    }
    return { kind: 'live', device: { userId, deviceId }, sessionId: sessionId as string };
  }

  /** Forgets what this container knew of a connection (it closed). */
  forget(connectionId: string): void {
    this.#entries.delete(connectionId);
  }

  async #reassert(entry: Entry, now: number): Promise<boolean> {
    const refreshed = { ...entry.record, refreshedAt: now };
    if (!(await this.deps.registry.refresh(refreshed))) return false;
    entry.record = refreshed;
    entry.assertedAt = now;
    return true;
  }

  #forget(connectionId: string, kind: 'lost'): ConnectionCheck {
    this.#entries.delete(connectionId);
    return { kind };
  }

  #remember(connectionId: string, entry: Entry): void {
    if (this.#entries.size >= this.#options.maxCached)
      this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(connectionId, entry);
  }
}
