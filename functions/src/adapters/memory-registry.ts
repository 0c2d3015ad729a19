import type { ConnectionRecord, ConnectionRegistry, WsTicketRecord } from '#ports/connection-registry.ts';

/**
 * The in-process connection registry: what `npm start` uses when REDIS_URL is
 * unset. Correct only while every handler runs in the one process of the local
 * twin; AWS always uses Redis.
 */
export class MemoryConnectionRegistry implements ConnectionRegistry {
  readonly #connections = new Map<string, ConnectionRecord>();
  readonly #byUser = new Map<string, Set<string>>();
  readonly #tickets = new Map<string, Map<string, WsTicketRecord>>();

  async add(connection: ConnectionRecord): Promise<void> {
    await this.remove(connection.connectionId);
    this.#connections.set(connection.connectionId, connection);
    if (connection.userId === null) return;
    const ids = this.#byUser.get(connection.userId) ?? new Set<string>();
    ids.add(connection.connectionId);
    this.#byUser.set(connection.userId, ids);
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

  async addTicket(userId: string, ticketHash: string, ticket: WsTicketRecord): Promise<void> {
    const tickets = this.#tickets.get(userId) ?? new Map<string, WsTicketRecord>();
    for (const [hash, known] of tickets) if (known.expiresAt <= Date.now()) tickets.delete(hash);
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
}
