import type { Cluster, Redis } from 'ioredis';
import {
  type ConnectionRecord,
  type ConnectionRegistry,
  LAST_SEEN_TTL_SECONDS,
  type PresenceRecord,
  REVOCATION_MARKER_TTL_SECONDS,
  type WsTicketRecord,
} from '#ports/connection-registry.ts';

/** A record outlives API Gateway's 2 h connection limit only by a margin, so crashes leave no lasting litter. */
const RECORD_TTL_SECONDS = 2 * 60 * 60 + 5 * 60;

/**
 * Connections in Redis (ElastiCache in AWS). Layout, cluster-safe (no
 * multi-key commands, so it runs on ElastiCache Serverless's cluster mode):
 * - `conn:{connectionId}`: the record as JSON, with a TTL;
 * - `user:{userId}:conns`: hash connectionId -> record JSON, with a TTL refreshed on add;
 * - `user:{userId}:tickets`: hash ticket hash -> ticket JSON, expiring with the newest ticket;
 * - `user:{userId}:revoked`: hash marker -> epoch ms of the revocation, expiring 2 min after the newest.
 * - `user:{userId}:online`: present while the user is online (expires unless heartbeats refresh it);
 *   `user:{userId}:seen`: epoch ms of the last heartbeat or disconnect, kept LAST_SEEN_TTL_SECONDS;
 * - `hits:{key}`: a fixed-window counter (typing notices).
 * `connectionsOf` issues one HGETALL per user, auto-pipelined into one round trip.
 */
export class RedisConnectionRegistry implements ConnectionRegistry {
  constructor(private readonly redis: Redis | Cluster) {}

  async add(connection: ConnectionRecord): Promise<void> {
    const json = JSON.stringify(connection);
    const writes: Promise<unknown>[] = [
      this.redis.set(connKey(connection.connectionId), json, 'EX', RECORD_TTL_SECONDS),
    ];
    if (connection.userId !== null) {
      const key = userKey(connection.userId);
      writes.push(this.redis.hset(key, connection.connectionId, json), this.redis.expire(key, RECORD_TTL_SECONDS));
    }
    await Promise.all(writes);
  }

  async refresh(connection: ConnectionRecord): Promise<boolean> {
    const json = JSON.stringify(connection);
    const previous = await this.redis.set(
      connKey(connection.connectionId),
      json,
      'EX',
      RECORD_TTL_SECONDS,
      'XX',
      'GET',
    );
    if (previous === null) return false;
    if (connection.userId !== null) {
      const key = userKey(connection.userId);
      await Promise.all([
        this.redis.hset(key, connection.connectionId, json),
        this.redis.expire(key, RECORD_TTL_SECONDS),
      ]);
    }
    return true;
  }

  async remove(connectionId: string): Promise<ConnectionRecord | null> {
    const json = await this.redis.getdel(connKey(connectionId));
    if (json === null) return null;
    const record = parse(json);
    if (record?.userId) await this.redis.hdel(userKey(record.userId), connectionId);
    return record;
  }

  async get(connectionId: string): Promise<ConnectionRecord | null> {
    const json = await this.redis.get(connKey(connectionId));
    return json === null ? null : parse(json);
  }

  async connectionsOf(userIds: readonly string[]): Promise<Map<string, ConnectionRecord[]>> {
    const unique = [...new Set(userIds)];
    const hashes = await Promise.all(unique.map((userId) => this.redis.hgetall(userKey(userId))));
    return new Map(
      unique.map((userId, i) => [userId, Object.values(hashes[i] ?? {}).flatMap((json) => parse(json) ?? [])]),
    );
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async addTicket(userId: string, ticketHash: string, ticket: WsTicketRecord, ttlSeconds: number): Promise<void> {
    const key = ticketsKey(userId);
    await Promise.all([this.redis.hset(key, ticketHash, JSON.stringify(ticket)), this.redis.expire(key, ttlSeconds)]);
  }

  async takeTicket(userId: string, ticketHash: string): Promise<WsTicketRecord | null> {
    const key = ticketsKey(userId);
    const json = await this.redis.hget(key, ticketHash);
    // HDEL answers 1 to one caller only: of concurrent takes, exactly one wins.
    if (json === null || (await this.redis.hdel(key, ticketHash)) !== 1) return null;
    try {
      return JSON.parse(json) as WsTicketRecord;
    } catch {
      return null;
    }
  }

  async revokeTickets(userId: string): Promise<void> {
    await this.redis.del(ticketsKey(userId));
  }

  async recordRevocation(userId: string, marker: string, at: number): Promise<void> {
    const key = revokedKey(userId);
    // Only ever moves forward, so a late writer cannot shorten a newer revocation.
    const known = Number((await this.redis.hget(key, marker)) ?? 0);
    await Promise.all([
      this.redis.hset(key, marker, String(Math.max(at, known))),
      this.redis.expire(key, REVOCATION_MARKER_TTL_SECONDS),
    ]);
  }

  async revocations(userId: string): Promise<Record<string, number>> {
    const markers = await this.redis.hgetall(revokedKey(userId));
    return Object.fromEntries(Object.entries(markers).map(([marker, at]) => [marker, Number(at)]));
  }

  async markOnline(userId: string, at: number, ttlSeconds: number): Promise<boolean> {
    const [previous] = await Promise.all([
      this.redis.set(onlineKey(userId), String(at), 'EX', ttlSeconds, 'GET'),
      this.redis.set(seenKey(userId), String(at), 'EX', LAST_SEEN_TTL_SECONDS),
    ]);
    return previous === null;
  }

  async markOffline(userId: string, at: number): Promise<void> {
    await Promise.all([
      this.redis.del(onlineKey(userId)),
      this.redis.set(seenKey(userId), String(at), 'EX', LAST_SEEN_TTL_SECONDS),
    ]);
  }

  async presenceOf(userIds: readonly string[]): Promise<Map<string, PresenceRecord>> {
    const unique = [...new Set(userIds)];
    const answers = await Promise.all(
      unique.map((userId) => Promise.all([this.redis.exists(onlineKey(userId)), this.redis.get(seenKey(userId))])),
    );
    return new Map(
      unique.map((userId, i) => {
        const [online, seen] = answers[i] ?? [0, null];
        return [userId, { online: online === 1, lastSeenAt: seen === null ? null : Number(seen) }];
      }),
    );
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const k = counterKey(key);
    const [count] = await Promise.all([this.redis.incr(k), this.redis.expire(k, windowSeconds, 'NX')]);
    return count;
  }
}

const connKey = (connectionId: string) => `conn:${connectionId}`;
const onlineKey = (userId: string) => `user:${userId}:online`;
const seenKey = (userId: string) => `user:${userId}:seen`;
const counterKey = (key: string) => `hits:${key}`;
const userKey = (userId: string) => `user:${userId}:conns`;
const ticketsKey = (userId: string) => `user:${userId}:tickets`;
const revokedKey = (userId: string) => `user:${userId}:revoked`;

function parse(json: string): ConnectionRecord | null {
  try {
    return JSON.parse(json) as ConnectionRecord;
  } catch {
    return null;
  }
}
