import { describe, expect, it } from 'vitest';
import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import { CONNECT_GRACE_MS, publish } from '#domain/fanout.ts';
import type { ConnectionsApi } from '#ports/connections-api.ts';

/** A fan-out that meets 410 Gone removes stale records, but never one that may still be in its $connect. */
describe('publish', () => {
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
    const result = await publish({ registry, connections: gone }, [userId], () => frame);
    expect(result.gone).toBe(1);
    expect(await registry.get('c-new')).toEqual(connecting);
  });

  it('removes the record of an old connection reported gone (it died without $disconnect)', async () => {
    const registry = new MemoryConnectionRegistry();
    const userId = crypto.randomUUID();
    await registry.add({ connectionId: 'c-old', userId, deviceId: 1, connectedAt: Date.now() - CONNECT_GRACE_MS - 1 });
    await publish({ registry, connections: gone }, [userId], () => frame);
    expect(await registry.get('c-old')).toBeNull();
  });

  it('reports the users it found no connection of', async () => {
    const registry = new MemoryConnectionRegistry();
    const [online, offline] = [crypto.randomUUID(), crypto.randomUUID()];
    await registry.add({ connectionId: 'c1', userId: online, deviceId: 1, connectedAt: Date.now() });
    const sent: ConnectionsApi = { post: async () => 'sent', disconnect: async () => 'closed' };
    const result = await publish({ registry, connections: sent }, [online, offline], () => frame);
    expect(result).toMatchObject({ sent: 1, unreached: [offline] });
  });
});
