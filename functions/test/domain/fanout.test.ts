/** Fan-out with the in-process registry and a recording @connections API (no database needed). */
import { describe, expect, it } from 'vitest';
import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import { CONNECT_GRACE_MS, deliverMessage, publish, publishDelivered } from '#domain/fanout.ts';
import type { ConnectionsApi } from '#ports/connections-api.ts';
import type { Db } from '#ports/db.ts';
import { world } from '../support/messaging.ts';

const noDb: Db = {
  query: () => Promise.reject(new Error('no database here')),
  transaction: () => Promise.reject(new Error('no database here')),
};

describe('publish', () => {
  it('posts to every live connection of the users, removes gone ones (never others), counts failures', async () => {
    const w = world(noDb);
    const a1 = await w.connect('a', 1);
    const a2 = await w.connect('a', 2);
    const b1 = await w.connect('b', 1);
    const c1 = await w.connect('c', 1);
    w.connections.gone.add(a2);
    w.connections.failing.add(b1);
    const result = await publish(w.deps, ['a', 'b'], () => ({
      type: 'typing',
      conversationId: 'x',
      userId: 'z',
      state: 'start',
    }));
    expect(result).toEqual({ sent: 1, gone: 1, failed: 1, unreached: [] });
    expect(await w.registry.get(a2)).toBeNull();
    expect(await w.registry.get(b1)).not.toBeNull();
    expect(await w.registry.get(a1)).not.toBeNull();
    expect(w.connections.to(c1)).toEqual([]);
  });

  it("sends one connection's frames in order", async () => {
    const w = world(noDb);
    const a1 = await w.connect('a', 1);
    const frames = [1, 2, 3].map((seq) => ({
      type: 'receipt' as const,
      conversationId: 'x',
      userId: 'b',
      status: 'delivered' as const,
      seq,
      at: '2026-01-01T00:00:00.000Z',
    }));
    await publish(w.deps, ['a'], () => frames);
    expect(w.connections.to(a1).map((f) => (f as { seq: number }).seq)).toEqual([1, 2, 3]);
  });
});

describe('deliverMessage', () => {
  it('gives each recipient device the shared sender-key ciphertext when it is a recipient, and the sender nothing', async () => {
    const w = world(noDb);
    const sender = await w.connect('a', 1);
    const other = await w.connect('a', 2);
    const b1 = await w.connect('b', 1);
    const b9 = await w.connect('b', 9);
    await deliverMessage(
      w.deps,
      { userId: 'a', deviceId: 1 },
      { conversationId: 'x', seq: 4, createdAt: '2026-01-01T00:00:00.000Z', created: true, memberIds: ['a', 'b'] },
      {
        clientMessageId: '00000000-0000-4000-8000-000000000001',
        senderKeyCiphertext: 'AAAA',
        recipients: [
          { userId: 'a', deviceId: 2 },
          { userId: 'b', deviceId: 1 },
        ],
      },
    );
    expect(w.connections.to(sender)).toEqual([]);
    expect(w.connections.to(b9)).toEqual([]);
    expect(w.connections.to(other)).toMatchObject([{ entry: { seq: 4, envelope: { type: 'sender_key' } } }]);
    expect(w.connections.to(b1)).toHaveLength(1);
  });
});

describe('publishDelivered', () => {
  it("tells each sender of their own messages only, never about one's own", async () => {
    const w = world(noDb);
    const a1 = await w.connect('a', 1);
    const b1 = await w.connect('b', 1);
    await publishDelivered(
      w.deps,
      { userId: 'b', deviceId: 1 },
      [
        { conversationId: 'x', seq: 1, senderId: 'a', type: 'message' },
        { conversationId: 'x', seq: 2, senderId: 'b', type: 'message' },
        { conversationId: 'x', seq: 3, senderId: 'a', type: 'system' },
      ],
      new Date('2026-01-01T00:00:00.000Z'),
    );
    expect(w.connections.to(a1)).toMatchObject([{ type: 'receipt', status: 'delivered', seq: 1, userId: 'b' }]);
    expect(w.connections.to(b1)).toEqual([]);
  });
});

/** A fan-out that meets 410 Gone removes stale records, but never one that may still be in its $connect. */
describe('publish and $connect', () => {
  const gone: ConnectionsApi = { post: async () => 'gone', disconnect: async () => 'gone' };
  const frame = {
    type: 'typing',
    conversationId: crypto.randomUUID(),
    userId: crypto.randomUUID(),
    state: 'start',
  } as const;

  it('keeps the record of a connection whose $connect may still be running (Gone means "not yet open")', async () => {
    const registry = new MemoryConnectionRegistry();
    const userId = crypto.randomUUID();
    const connecting = { connectionId: 'c-new', userId, deviceId: 1, connectedAt: Date.now() };
    await registry.add(connecting);
    const result = await publish({ realtime: { registry, connections: gone } }, [userId], () => frame);
    expect(result.gone).toBe(1);
    expect(await registry.get('c-new')).toEqual(connecting);
  });

  it('removes the record of an old connection reported gone (it died without $disconnect)', async () => {
    const registry = new MemoryConnectionRegistry();
    const userId = crypto.randomUUID();
    await registry.add({ connectionId: 'c-old', userId, deviceId: 1, connectedAt: Date.now() - CONNECT_GRACE_MS - 1 });
    await publish({ realtime: { registry, connections: gone } }, [userId], () => frame);
    expect(await registry.get('c-old')).toBeNull();
  });

  it('reports the users it found no connection of', async () => {
    const registry = new MemoryConnectionRegistry();
    const [online, offline] = [crypto.randomUUID(), crypto.randomUUID()];
    await registry.add({ connectionId: 'c1', userId: online, deviceId: 1, connectedAt: Date.now() });
    const sent: ConnectionsApi = { post: async () => 'sent', disconnect: async () => 'closed' };
    const result = await publish({ realtime: { registry, connections: sent } }, [online, offline], () => frame);
    expect(result).toMatchObject({ sent: 1, unreached: [offline] });
  });
});
