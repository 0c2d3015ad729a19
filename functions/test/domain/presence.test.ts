/** Presence on PGlite with the in-process registry: co-members learn of changes, and only they can ask. */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '#domain/errors.ts';
import { connectionClosed, conversationPresence, heartbeat } from '#domain/presence.ts';
import { groupWithOutsider } from '../support/messaging.ts';

const cast = groupWithOutsider();

describe('presence', () => {
  it('a first heartbeat tells the co-members, later ones do not; the last connection closing says offline', async () => {
    const { w, alice, bob, eve, conversationId } = cast();
    const b1 = await w.connect(bob, 1);
    const e1 = await w.connect(eve, 1);
    const now = new Date('2026-01-01T10:00:00.000Z');
    expect(await heartbeat(w.deps, alice, now)).toBe(true);
    expect(await heartbeat(w.deps, alice, now)).toBe(false);
    expect(w.connections.to(b1)).toMatchObject([{ type: 'presence', userId: alice, status: 'online' }]);
    expect(w.connections.to(e1)).toEqual([]);
    const a1 = await w.connect(alice, 1);
    expect(await connectionClosed(w.deps, alice, now)).toBe(false); // a connection is still open
    await w.registry.remove(a1);
    expect(await connectionClosed(w.deps, alice, now)).toBe(true);
    expect(w.connections.to(b1).at(-1)).toMatchObject({ status: 'offline', lastSeenAt: now.toISOString() });
    const presence = await conversationPresence(w.deps, bob, conversationId);
    expect(presence.find((p) => p.userId === alice)).toMatchObject({ status: 'offline' });
  });

  it('answers a non-member as for an unknown conversation', async () => {
    const { w, eve, conversationId } = cast();
    await expect(conversationPresence(w.deps, eve, conversationId)).rejects.toBeInstanceOf(NotFoundError);
  });
});
