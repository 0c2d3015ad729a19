import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionRecord, ConnectionRegistry } from '#ports/connection-registry.ts';

/** The behaviour every ConnectionRegistry must show: Redis and the in-process map alike. */
export function connectionRegistryContract(
  name: string,
  setUp: () => Promise<{ registry: ConnectionRegistry; tearDown(): Promise<void> }>,
) {
  describe(`ConnectionRegistry contract: ${name}`, () => {
    let registry: ConnectionRegistry;
    let tearDown: () => Promise<void>;
    beforeAll(async () => {
      ({ registry, tearDown } = await setUp());
    });
    afterAll(() => tearDown?.());

    const record = (userId: string | null, connectionId = randomUUID()): ConnectionRecord => ({
      connectionId,
      userId,
      deviceId: userId ? Number.parseInt(connectionId.slice(0, 4), 16) + 1 : null,
      connectedAt: 1_700_000_000_000,
    });

    it('answers ping', async () => {
      await expect(registry.ping()).resolves.toBeUndefined();
    });

    it('returns what was added, and nothing after removal', async () => {
      const added = record(randomUUID());
      await registry.add(added);
      expect(await registry.get(added.connectionId)).toEqual(added);
      expect(await registry.remove(added.connectionId)).toEqual(added);
      expect(await registry.get(added.connectionId)).toBeNull();
      expect(await registry.remove(added.connectionId)).toBeNull();
    });

    it('lists every connection of each user, and an empty list for users with none', async () => {
      const alice = randomUUID();
      const bob = randomUUID();
      const nobody = randomUUID();
      const a1 = record(alice);
      const a2 = record(alice);
      const b1 = record(bob);
      await Promise.all([a1, a2, b1].map((r) => registry.add(r)));
      const found = await registry.connectionsOf([alice, bob, nobody, alice]);
      expect(found.size).toBe(3);
      expect(
        found
          .get(alice)
          ?.map((r) => r.connectionId)
          .sort(),
      ).toEqual([a1.connectionId, a2.connectionId].sort());
      expect(found.get(bob)).toEqual([b1]);
      expect(found.get(nobody)).toEqual([]);
    });

    it('refreshes a record it has, and says so; writes nothing for one it lost', async () => {
      const erin = randomUUID();
      const known = record(erin);
      await registry.add(known);
      const refreshed = { ...known, refreshedAt: known.connectedAt + 60_000 };
      expect(await registry.refresh(refreshed)).toBe(true);
      expect(await registry.get(known.connectionId)).toEqual(refreshed);
      expect((await registry.connectionsOf([erin])).get(erin)).toEqual([refreshed]);
      const lost = record(erin);
      expect(await registry.refresh(lost)).toBe(false);
      expect(await registry.get(lost.connectionId)).toBeNull();
      expect((await registry.connectionsOf([erin])).get(erin)).toEqual([refreshed]);
    });

    it('drops a removed connection from its user', async () => {
      const carol = randomUUID();
      const c1 = record(carol);
      const c2 = record(carol);
      await registry.add(c1);
      await registry.add(c2);
      await registry.remove(c1.connectionId);
      expect((await registry.connectionsOf([carol])).get(carol)).toEqual([c2]);
    });

    it('keeps anonymous connections out of every user list', async () => {
      const anonymous = record(null);
      await registry.add(anonymous);
      expect(await registry.get(anonymous.connectionId)).toEqual(anonymous);
      expect(await registry.remove(anonymous.connectionId)).toEqual(anonymous);
    });

    it('re-adding a connection replaces it', async () => {
      const dave = randomUUID();
      const first = record(null);
      await registry.add(first);
      const second = { ...first, userId: dave, deviceId: 7 };
      await registry.add(second);
      expect(await registry.get(first.connectionId)).toEqual(second);
      expect((await registry.connectionsOf([dave])).get(dave)).toEqual([second]);
    });

    it('hands a ticket to exactly one of several concurrent takers, and only to the right user', async () => {
      const erin = randomUUID();
      const ticket = {
        deviceId: 3,
        sessionId: randomUUID(),
        issuedAt: 1_700_000_000_000,
        expiresAt: 1_700_000_030_000,
      };
      await registry.addTicket(erin, 'hash-1', ticket, 30);
      expect(await registry.takeTicket(randomUUID(), 'hash-1')).toBeNull();
      const takes = await Promise.all(Array.from({ length: 5 }, () => registry.takeTicket(erin, 'hash-1')));
      expect(takes.filter((t) => t !== null)).toEqual([ticket]);
      expect(await registry.takeTicket(erin, 'hash-1')).toBeNull();
    });

    it("drops every outstanding ticket of a user on revocation, and no one else's", async () => {
      const [frank, gina] = [randomUUID(), randomUUID()];
      const ticket = { deviceId: 1, sessionId: randomUUID(), issuedAt: Date.now(), expiresAt: Date.now() + 30_000 };
      await registry.addTicket(frank, 'a', ticket, 30);
      await registry.addTicket(frank, 'b', ticket, 30);
      await registry.addTicket(gina, 'a', ticket, 30);
      await registry.revokeTickets(frank);
      expect(await registry.takeTicket(frank, 'a')).toBeNull();
      expect(await registry.takeTicket(frank, 'b')).toBeNull();
      expect(await registry.takeTicket(gina, 'a')).toEqual(ticket);
    });

    it('keeps revocation markers per user, only ever moving forward', async () => {
      const [hank, ivy] = [randomUUID(), randomUUID()];
      expect(await registry.revocations(hank)).toEqual({});
      await registry.recordRevocation(hank, 'device:2', 2_000);
      await registry.recordRevocation(hank, 'device:2', 1_000);
      await registry.recordRevocation(hank, 'all', 3_000);
      expect(await registry.revocations(hank)).toEqual({ 'device:2': 2_000, all: 3_000 });
      expect(await registry.revocations(ivy)).toEqual({});
    });

    it('tracks presence: online until the TTL or a disconnect, last seen kept, only the first heartbeat a change', async () => {
      const [jo, kim, lee] = [randomUUID(), randomUUID(), randomUUID()];
      expect(await registry.markOnline(jo, 1_000, 60)).toBe(true);
      expect(await registry.markOnline(jo, 2_000, 60)).toBe(false);
      expect(await registry.markOnline(kim, 1_500, 1)).toBe(true);
      await registry.markOffline(kim, 1_700);
      const presence = await registry.presenceOf([jo, kim, lee, jo]);
      expect(presence.size).toBe(3);
      expect(presence.get(jo)).toEqual({ online: true, lastSeenAt: 2_000 });
      expect(presence.get(kim)).toEqual({ online: false, lastSeenAt: 1_700 });
      expect(presence.get(lee)).toEqual({ online: false, lastSeenAt: null });
      expect(await registry.markOnline(kim, 1_800, 60)).toBe(true);
    });

    it('lets presence lapse when heartbeats stop', async () => {
      const mo = randomUUID();
      await registry.markOnline(mo, 5_000, 1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await registry.presenceOf([mo])).get(mo)).toEqual({ online: false, lastSeenAt: 5_000 });
    });

    it('counts hits per key within a window, and starts over after it', async () => {
      const [a, b] = [`typing:${randomUUID()}`, `typing:${randomUUID()}`];
      expect(await registry.hit(a, 1)).toBe(1);
      expect(await registry.hit(a, 1)).toBe(2);
      expect(await registry.hit(b, 1)).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect(await registry.hit(a, 1)).toBe(1);
    });
  });
}
