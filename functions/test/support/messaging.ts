import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import type { MessagingDeps } from '#domain/messages.ts';
import type { ConnectionsApi } from '#ports/connections-api.ts';
import type { Db } from '#ports/db.ts';
import type { ObjectStore } from '#ports/object-store.ts';
import { pgliteDb } from './pglite.ts';

/** @connections as a recording fake: what was posted to which connection; some connections gone or failing. */
export class RecordingConnections implements ConnectionsApi {
  readonly posts: { connectionId: string; data: unknown }[] = [];
  readonly gone = new Set<string>();
  readonly failing = new Set<string>();

  async post(connectionId: string, data: unknown): Promise<'sent' | 'gone'> {
    if (this.failing.has(connectionId)) throw new Error('throttled');
    if (this.gone.has(connectionId)) return 'gone';
    this.posts.push({ connectionId, data });
    return 'sent';
  }

  async disconnect(connectionId: string): Promise<'closed' | 'gone'> {
    return this.gone.has(connectionId) ? 'gone' : 'closed';
  }

  /** What one connection got. */
  to(connectionId: string): unknown[] {
    return this.posts.filter((p) => p.connectionId === connectionId).map((p) => p.data);
  }
}

/** Attachments are not part of these tests: a store that is never reached. */
const noObjects = new Proxy({} as ObjectStore, {
  get: () => () => Promise.reject(new Error('the object store is not used here')),
});

export interface World {
  readonly deps: MessagingDeps;
  readonly registry: MemoryConnectionRegistry;
  readonly connections: RecordingConnections;
  user(name: string): Promise<string>;
  device(userId: string, deviceId: number): Promise<void>;
  conversation(kind: 'direct' | 'group', memberIds: readonly string[]): Promise<string>;
  /** A live WebSocket connection of a device. */
  connect(userId: string, deviceId: number): Promise<string>;
}

/** The messaging ports over `db`: the in-process registry and a recording @connections API. */
export function world(db: Db): World {
  const registry = new MemoryConnectionRegistry();
  const connections = new RecordingConnections();
  const bytes = (n: number) => randomBytes(n);
  return {
    deps: { db, store: noObjects, realtime: { registry, connections } },
    registry,
    connections,
    async user(name) {
      const [row] = await db.query<{ id: string }>(
        `INSERT INTO users (email, email_normalized, display_name, password_hash)
         VALUES ($1, $1, $2, 'x') RETURNING id`,
        [`${name}-${randomUUID()}@example.com`, name],
      );
      return row?.id as string;
    },
    async device(userId, deviceId) {
      await db.query(
        `INSERT INTO devices (user_id, device_id, name, registration_id, identity_key, signed_prekey_id,
                              signed_prekey, signed_prekey_signature)
         VALUES ($1::uuid, $2::int, 'test', 1, $3, 1, $4, $5)`,
        [userId, String(deviceId), bytes(33), bytes(33), bytes(64)],
      );
    },
    async conversation(kind, memberIds) {
      const [owner] = memberIds;
      const [row] = await db.query<{ id: string }>(
        `INSERT INTO conversations (kind, name, direct_key, created_by) VALUES ($1, $2, $3, $4::uuid) RETURNING id`,
        [kind, kind === 'group' ? 'Group' : null, kind === 'direct' ? [...memberIds].sort().join(':') : null, owner],
      );
      const id = row?.id as string;
      for (const [i, userId] of memberIds.entries()) {
        await db.query(
          'INSERT INTO conversation_members (conversation_id, user_id, role) VALUES ($1::uuid, $2::uuid, $3)',
          [id, userId, i === 0 ? 'owner' : 'member'],
        );
      }
      return id;
    },
    async connect(userId, deviceId) {
      const connectionId = `conn-${randomUUID()}`;
      // Long open (past fanout.ts's $connect grace), so a Gone for it means the socket died.
      await registry.add({ connectionId, userId, deviceId, connectedAt: Date.now() - 60_000 });
      return connectionId;
    },
  };
}

/**
 * A PGlite database with the migrations applied and the messaging ports over it, for the tests of one file
 * (created before them, closed after). Returns the world's accessor.
 */
export function pgliteWorld(): () => World {
  let db: (Db & { close(): Promise<void> }) | undefined;
  let current: World | undefined;
  beforeAll(async () => {
    db = await pgliteDb();
    current = world(db);
  }, 60_000);
  afterAll(() => db?.close());
  return () => {
    if (!current) throw new Error('the world is made in beforeAll');
    return current;
  };
}

/** Alice and Bob in a group, each with device 1, and Eve (device 1) outside it: made once per test file. */
export function groupWithOutsider(): () => {
  w: World;
  alice: string;
  bob: string;
  eve: string;
  conversationId: string;
} {
  const world = pgliteWorld();
  let cast: { alice: string; bob: string; eve: string; conversationId: string } | undefined;
  beforeAll(async () => {
    const w = world();
    const [alice, bob, eve] = [await w.user('Alice'), await w.user('Bob'), await w.user('Eve')];
    for (const id of [alice, bob, eve]) await w.device(id, 1);
    cast = { alice, bob, eve, conversationId: await w.conversation('group', [alice, bob]) };
  });
  return () => {
    if (!cast) throw new Error('the cast is made in beforeAll');
    return { w: world(), ...cast };
  };
}
