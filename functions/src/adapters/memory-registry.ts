import {
  type ConnectionRecord,
  type ConnectionRegistry,
  type PresenceRecord,
  REVOCATION_MARKER_TTL_SECONDS,
  type WsTicketRecord,
} from '#ports/connection-registry.ts';

/**
 * The in-process connection registry: what `npm start` uses when REDIS_URL is
 * unset. Correct only while every handler runs in the one process of the local
 * twin; AWS always uses Redis.
 */
export class MemoryConnectionRegistry implements ConnectionRegistry {
  readonly #connections = new Map<string, ConnectionRecord>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #tickets = new Map<string, Map<string, WsTicketRecord>>();
  readonly #revocations = new Map<string, { markers: Record<string, number>; until: number }>();
  readonly #presence = new Map<string, { lastSeenAt: number; onlineUntil: number }>();
  readonly #counters = new Map<string, { count: number; until: number }>();

  async add(connection: ConnectionRecord): Promise<void> {
    await this.remove(connection.connectionId);
    this.#connections.set(connection.connectionId, connection);
    if (connection.userId === null) return;
    const ids = this.#byUser.get(connection.userId) ?? new Set<string>();
    ids.add(connection.connectionId);
    this.#byUser.set(connection.userId, ids);
  }

  async refresh(connection: ConnectionRecord): Promise<boolean> {
    if (!this.#connections.has(connection.connectionId)) return false;
    this.#connections.set(connection.connectionId, connection);
    return true;
  }

  async remove(connectionId: string): Promise<ConnectionRecord | null> {
    const known = this.#connections.get(connectionId);
    if (!known) return null;
    this.#connections.delete(connectionId);
    if (known.userId !== null) {
      const ids = this.#byUser.get(known.userId);
      ids?.delete(connectionId);
      if (ids?.size === 0) this.#byUser.delete(known.userId);
    }
    return known;
  }

  async get(connectionId: string): Promise<ConnectionRecord | null> {
    return this.#connections.get(connectionId) ?? null;
  }

  async connectionsOf(userIds: readonly string[]): Promise<Map<string, ConnectionRecord[]>> {
    const result = new Map<string, ConnectionRecord[]>();
    for (const userId of new Set(userIds)) {
      const ids = [...(this.#byUser.get(userId) ?? [])];
      result.set(
        userId,
        ids.flatMap((id) => this.#connections.get(id) ?? []),
      );
    }
    return result;
  }

  async ping(): Promise<void> {}

  async addTicket(userId: string, ticketHash: string, ticket: WsTicketRecord, _ttlSeconds?: number): Promise<void> {
    const tickets = this.#tickets.get(userId) ?? new Map<string, WsTicketRecord>();
    // Unredeemed tickets are only ever refused for age; keep the newest few so none pile up.
    if (tickets.size >= 50) tickets.delete(tickets.keys().next().value as string);
    tickets.set(ticketHash, ticket);
    this.#tickets.set(userId, tickets);
  }

  async takeTicket(userId: string, ticketHash: string): Promise<WsTicketRecord | null> {
    const tickets = this.#tickets.get(userId);
    const ticket = tickets?.get(ticketHash) ?? null;
    tickets?.delete(ticketHash);
    return ticket;
  }

  async revokeTickets(userId: string): Promise<void> {
    this.#tickets.delete(userId);
  }

  async recordRevocation(userId: string, marker: string, at: number): Promise<void> {
    const known = await this.revocations(userId);
    const until = Date.now() + REVOCATION_MARKER_TTL_SECONDS * 1000;
    this.#revocations.set(userId, { markers: { ...known, [marker]: Math.max(at, known[marker] ?? 0) }, until });
  }

  async revocations(userId: string): Promise<Record<string, number>> {
    const entry = this.#revocations.get(userId);
    if (!entry || entry.until <= Date.now()) return {};
    return { ...entry.markers };
  }

  async markOnline(userId: string, at: number, ttlSeconds: number): Promise<boolean> {
    const known = this.#presence.get(userId);
    const wasOnline = known !== undefined && known.onlineUntil > Date.now();
    this.#presence.set(userId, { lastSeenAt: at, onlineUntil: Date.now() + ttlSeconds * 1000 });
    return !wasOnline;
  }

  async markOffline(userId: string, at: number): Promise<void> {
    this.#presence.set(userId, { lastSeenAt: at, onlineUntil: 0 });
  }

  async presenceOf(userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
    const now = Date.now();
    return new Map(
      [...new Set(userIds)].map((userId) => {
        const known = this.#presence.get(userId);
        return [userId, { online: (known?.onlineUntil ?? 0) > now, lastSeenAt: known?.lastSeenAt ?? null }];
      }),
    );
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const now = Date.now();
    const known = this.#counters.get(key);
    const entry = known && known.until > now ? known : { count: 0, until: now + windowSeconds * 1000 };
    entry.count += 1;
    this.#counters.set(key, entry);
    if (this.#counters.size > 10_000) {
      for (const [k, v] of this.#counters) if (v.until <= now) this.#counters.delete(k);
    }
    return entry.count;
  }
}
