import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import type { AccountDeps } from '#domain/accounts.ts';
import { dropConnections, type Realtime, type Revocation } from '#domain/realtime.ts';
import { admitConnection, issueWsTicket } from '#domain/ws-tickets.ts';
import type { ConnectionRegistry } from '#ports/connection-registry.ts';

/** Ticket admission against revocations, including a revocation that runs in the middle of a $connect. */
function setUp(now: () => number) {
  const registry = new MemoryConnectionRegistry();
  const hungUp: string[] = [];
  const realtime: Realtime = {
    registry,
    connections: {
      post: async () => 'sent',
      disconnect: async (id) => {
        hungUp.push(id);
        return 'closed';
      },
    },
  };
  const clock = () => new Date(now());
  const deps = {
    db: { query: async () => [], transaction: async () => undefined },
    clock,
    limiter: { hit: async () => ({ allowed: true, retryAfterSeconds: 0 }) },
    limitScale: 1,
    realtime,
  } as unknown as AccountDeps;
  return { registry, realtime, hungUp, clock, deps };
}
const principal = { userId: randomUUID(), sessionId: randomUUID(), deviceId: 1 };

describe('admitConnection', () => {
  it('admits a fresh ticket once, recording the user and device', async () => {
    const { registry, deps, clock } = setUp(() => 1_000);
    const { ticket } = await issueWsTicket(deps, principal);
    const admitted = await admitConnection({ registry, clock }, ticket, { connectionId: 'c1', connectedAt: 1 });
    expect(admitted).toEqual({ userId: principal.userId, deviceId: 1 });
    expect(await registry.get('c1')).toMatchObject({ userId: principal.userId, deviceId: 1 });
    expect(await admitConnection({ registry, clock }, ticket, { connectionId: 'c2', connectedAt: 1 })).toBeNull();
  });

  it.each<[string, Revocation]>([
    ['the device', { kind: 'device', deviceId: 1 }],
    ['the session', { kind: 'session', sessionId: principal.sessionId, deviceId: 1 }],
    ['every session of the user', { kind: 'user' }],
  ])(
    'refuses and removes a connection when %s is revoked between redemption and registration',
    async (_, revocation) => {
      const { registry, realtime, deps, clock } = setUp(() => 1_000);
      const { ticket } = await issueWsTicket(deps, principal);
      // The revocation runs completely after the ticket was taken and before the connection is registered.
      const racing: ConnectionRegistry = {
        add: async (connection) => {
          await dropConnections(realtime, principal.userId, revocation, clock());
          return registry.add(connection);
        },
        refresh: (connection) => registry.refresh(connection),
        remove: (id) => registry.remove(id),
        get: (id) => registry.get(id),
        connectionsOf: (ids) => registry.connectionsOf(ids),
        ping: () => registry.ping(),
        addTicket: (...args) => registry.addTicket(...args),
        takeTicket: (...args) => registry.takeTicket(...args),
        revokeTickets: (id) => registry.revokeTickets(id),
        recordRevocation: (...args) => registry.recordRevocation(...args),
        revocations: (id) => registry.revocations(id),
        markOnline: (...args) => registry.markOnline(...args),
        markOffline: (...args) => registry.markOffline(...args),
        presenceOf: (ids) => registry.presenceOf(ids),
        hit: (...args) => registry.hit(...args),
      };
      expect(
        await admitConnection({ registry: racing, clock }, ticket, { connectionId: 'c1', connectedAt: 1 }),
      ).toBeNull();
      expect(await registry.get('c1')).toBeNull();
    },
  );

  it('hangs up on a connection admitted before the revocation, and refuses older tickets afterwards', async () => {
    const { registry, realtime, deps, clock, hungUp } = setUp(() => 1_000);
    const { ticket: first } = await issueWsTicket(deps, principal);
    const { ticket: second } = await issueWsTicket(deps, principal);
    await admitConnection({ registry, clock }, first, { connectionId: 'c1', connectedAt: 1 });
    await dropConnections(realtime, principal.userId, { kind: 'device', deviceId: 1 }, clock());
    expect(hungUp).toEqual(['c1']);
    expect(await admitConnection({ registry, clock }, second, { connectionId: 'c2', connectedAt: 1 })).toBeNull();
  });

  it("admits tickets issued after a revocation, and is not stopped by another device's revocation", async () => {
    let now = 1_000;
    const { registry, realtime, deps, clock } = setUp(() => now);
    await dropConnections(realtime, principal.userId, { kind: 'device', deviceId: 2 }, clock());
    const { ticket: unaffected } = await issueWsTicket(deps, principal);
    expect(
      await admitConnection({ registry, clock }, unaffected, { connectionId: 'c1', connectedAt: 1 }),
    ).not.toBeNull();
    await dropConnections(realtime, principal.userId, { kind: 'user' }, clock());
    now = 1_001;
    const { ticket: later } = await issueWsTicket(deps, principal);
    expect(await admitConnection({ registry, clock }, later, { connectionId: 'c2', connectedAt: 1 })).not.toBeNull();
  });
});
