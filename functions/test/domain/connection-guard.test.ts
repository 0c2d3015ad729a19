import { describe, expect, it } from 'vitest';
import { MemoryConnectionRegistry } from '#adapters/memory-registry.ts';
import { ConnectionGuard } from '#domain/connection-guard.ts';
import type { Db } from '#ports/db.ts';

/** What a WebSocket frame's connection is checked for before its work: registered, re-asserted, session live. */
function setUp(options: { sessionLive?: () => boolean } = {}) {
  const registry = new MemoryConnectionRegistry();
  let now = 1_000_000;
  let sessionQueries = 0;
  const db: Db = {
    query: async <Row>() => {
      sessionQueries++;
      return ((options.sessionLive ?? (() => true))() ? [{ live: 1 }] : []) as Row[];
    },
    transaction: () => Promise.reject(new Error('unused')),
  };
  const guard = new ConnectionGuard(
    { registry, db, clock: () => new Date(now) },
    { reassertMs: 20_000, sessionRecheckMs: 5_000 },
  );
  const record = {
    connectionId: 'c1',
    userId: crypto.randomUUID(),
    deviceId: 3,
    connectedAt: now,
    sessionId: crypto.randomUUID(),
  };
  return {
    registry,
    guard,
    record,
    advance: (ms: number) => {
      now += ms;
    },
    sessionQueries: () => sessionQueries,
  };
}

describe('ConnectionGuard', () => {
  it('serves a registered connection of a live session, checking the session at most every 5 s', async () => {
    const { registry, guard, record, advance, sessionQueries } = setUp();
    await registry.add(record);
    expect(await guard.check('c1')).toEqual({
      kind: 'live',
      device: { userId: record.userId, deviceId: 3 },
      sessionId: record.sessionId,
    });
    await guard.check('c1');
    expect(sessionQueries()).toBe(1);
    advance(5_000);
    await guard.check('c1');
    expect(sessionQueries()).toBe(2);
  });

  it('finds a record the registry lost (a Redis restart) at the next heartbeat or within 20 s, however it is cached', async () => {
    const { registry, guard, record, advance } = setUp();
    await registry.add(record);
    expect((await guard.check('c1')).kind).toBe('live');
    await registry.remove('c1');
    expect((await guard.check('c1', { heartbeat: true })).kind).toBe('lost');

    await registry.add(record);
    expect((await guard.check('c1')).kind).toBe('live');
    await registry.remove('c1');
    advance(20_000);
    expect((await guard.check('c1')).kind).toBe('lost');
  });

  it('re-asserts the record of a live connection (its refreshedAt)', async () => {
    const { registry, guard, record, advance } = setUp();
    await registry.add(record);
    await guard.check('c1');
    advance(20_000);
    await guard.check('c1');
    expect((await registry.get('c1'))?.refreshedAt).toBe(record.connectedAt + 20_000);
  });

  it('answers a connection the registry never had as lost (it must reconnect)', async () => {
    const { guard } = setUp();
    expect(await guard.check('nobody')).toEqual({ kind: 'lost' });
  });

  it('turns away a connection whose session ended within seconds, even if nothing hung up on it', async () => {
    let live = true;
    const { registry, guard, record, advance } = setUp({ sessionLive: () => live });
    await registry.add(record);
    expect((await guard.check('c1')).kind).toBe('live');
    live = false;
    advance(5_000);
    expect(await guard.check('c1')).toEqual({ kind: 'ended', userId: record.userId });
  });
});
