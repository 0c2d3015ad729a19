import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { type ApiClient, registered } from './api.ts';
import { b64, deviceKeys } from './device-keys.ts';
import { type StackFixture, stackOnFreshSchema } from './stack-fixture.ts';

/** Set by `conversationSuite`, which starts the stack for the file that runs it. */
let fx: StackFixture;

interface Conversation {
  id: string;
  kind: string;
  name: string | null;
  avatar: string | null;
  lastSeq: number;
  unreadCount: number;
  role: string;
  members: { userId: string; role: string; displayName: string }[];
}

const user = (label: string) => registered(fx.stack.restUrl, label);

/** A user whose session registered a device (device 1). */
async function userWithDevice(label: string) {
  const account = await user(label);
  const answer = await account.client.post('/devices', (await deviceKeys()).body(`${label} laptop`));
  if (answer.status !== 201) throw new Error(`device registration failed: ${answer.status} ${answer.text}`);
  return account;
}

const ciphertext = (fill: number) => b64(new Uint8Array(48).fill(fill));
const envelope = (userId: string, fill: number, deviceId = 1) => ({
  userId,
  deviceId,
  type: 'prekey',
  ciphertext: ciphertext(fill),
});

/** Rows straight from the database: what the API wrote, and that a refused request wrote nothing. */
async function sql<Row>(text: string, params: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: fx.schema.url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as Row[];
  } finally {
    await client.end();
  }
}

async function events(conversationId: string) {
  const rows = await sql<{ seq: string; type: string; payload: Record<string, unknown> }>(
    'SELECT seq, type, payload FROM messages WHERE conversation_id = $1 ORDER BY seq',
    [conversationId],
  );
  return rows.map((row) => ({ seq: Number(row.seq), type: row.type, ...row.payload }));
}

const counts = async () =>
  (
    await sql<{ c: string; m: string; e: string; d: string }>(
      `SELECT (SELECT count(*) FROM conversations) AS c, (SELECT count(*) FROM conversation_members) AS m,
              (SELECT count(*) FROM messages) AS e, (SELECT count(*) FROM deliveries) AS d`,
    )
  )[0];

async function group(owner: ApiClient, name: string, memberIds: string[]): Promise<Conversation> {
  const answer = await owner.post('/conversations', { kind: 'group', name, memberIds });
  if (answer.status !== 201) throw new Error(`group creation failed: ${answer.status} ${answer.text}`);
  return answer.body.conversation as Conversation;
}

/**
 * The conversation suite on one database driver (`env` goes to the local stack). Each driver runs in
 * its own test file: the functions' clients are module singletons, one stack per process.
 */
export function conversationSuite(env: Record<string, string>) {
  fx = stackOnFreshSchema({ env: { RATE_LIMIT_MULTIPLIER: '100', ...env } });

  describe('direct conversations', () => {
    it('creates one per pair: 201 the first time, 200 with the same conversation after, from either side', async () => {
      const alice = await user('d-alice');
      const bob = await user('d-bob');
      const first = await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId });
      expect(first.status, first.text).toBe(201);
      const conversation = first.body.conversation as Conversation;
      expect(conversation).toMatchObject({ kind: 'direct', name: null, lastSeq: 1, unreadCount: 0, role: 'member' });
      expect(conversation.members.map((m) => m.userId).sort()).toEqual([alice.userId, bob.userId].sort());
      const again = await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId });
      expect(again.status).toBe(200);
      expect((again.body.conversation as Conversation).id).toBe(conversation.id);
      const fromBob = await bob.client.post('/conversations', { kind: 'direct', userId: alice.userId.toUpperCase() });
      expect(fromBob.status).toBe(200);
      expect((fromBob.body.conversation as Conversation).id).toBe(conversation.id);
    });

    it('two concurrent creates of the same pair make one conversation', async () => {
      const alice = await user('c-alice');
      const bob = await user('c-bob');
      const answers = await Promise.all([
        alice.client.post('/conversations', { kind: 'direct', userId: bob.userId }),
        bob.client.post('/conversations', { kind: 'direct', userId: alice.userId }),
        alice.client.post('/conversations', { kind: 'direct', userId: bob.userId }),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 201]);
      expect(new Set(answers.map((a) => (a.body.conversation as Conversation).id)).size).toBe(1);
      const rows = await sql('SELECT id FROM conversations WHERE direct_key = $1', [
        [alice.userId, bob.userId].sort().join(':'),
      ]);
      expect(rows).toHaveLength(1);
    });

    it('has fixed members and no name', async () => {
      const alice = await user('f-alice');
      const bob = await user('f-bob');
      const carol = await user('f-carol');
      const id = (
        (await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId })).body
          .conversation as Conversation
      ).id;
      expect((await alice.client.patch(`/conversations/${id}`, { name: 'x' })).status).toBe(403);
      expect((await alice.client.post(`/conversations/${id}/members`, { userIds: [carol.userId] })).status).toBe(403);
      expect((await alice.client.delete(`/conversations/${id}/members/${alice.userId}`)).status).toBe(403);
    });
  });

  describe('groups', () => {
    it('create, rename, add, role change, remove and leave, each a system event in gap-free order', async () => {
      const owner = await user('g-owner');
      const bob = await user('g-bob');
      const carol = await user('g-carol');
      const dave = await user('g-dave');
      const created = await group(owner.client, 'Team', [bob.userId]);
      expect(created).toMatchObject({ kind: 'group', name: 'Team', role: 'owner', lastSeq: 1 });
      const id = created.id;

      const renamed = await owner.client.patch(`/conversations/${id}`, { name: '  Core team ', avatar: 'att/123' });
      expect(renamed.status, renamed.text).toBe(200);
      expect(renamed.body.conversation).toMatchObject({ name: 'Core team', avatar: 'att/123' });

      const added = await owner.client.post(`/conversations/${id}/members`, { userIds: [carol.userId, dave.userId] });
      expect(added.status, added.text).toBe(200);
      expect((added.body.conversation as Conversation).members.map((m) => m.userId)).toEqual([
        owner.userId,
        bob.userId,
        carol.userId,
        dave.userId,
      ]);

      const promoted = await owner.client.patch(`/conversations/${id}/members/${bob.userId}`, { role: 'admin' });
      expect(promoted.status, promoted.text).toBe(200);
      expect((await bob.client.delete(`/conversations/${id}/members/${carol.userId}`)).status).toBe(204);
      expect((await dave.client.delete(`/conversations/${id}/members/${dave.userId}`)).status).toBe(204);
      expect((await dave.client.get(`/conversations/${id}`)).status).toBe(404);

      expect(await events(id)).toEqual([
        { seq: 1, type: 'system', event: 'created', actorId: owner.userId, memberIds: [owner.userId, bob.userId] },
        { seq: 2, type: 'system', event: 'updated', actorId: owner.userId, name: 'Core team', avatar: 'att/123' },
        {
          seq: 3,
          type: 'system',
          event: 'members_added',
          actorId: owner.userId,
          userIds: [carol.userId, dave.userId],
        },
        { seq: 4, type: 'system', event: 'role_changed', actorId: owner.userId, userId: bob.userId, role: 'admin' },
        { seq: 5, type: 'system', event: 'member_removed', actorId: bob.userId, userId: carol.userId },
        { seq: 6, type: 'system', event: 'member_left', actorId: dave.userId, userId: dave.userId },
      ]);
      const final = (await owner.client.get(`/conversations/${id}`)).body.conversation as Conversation;
      expect(final.lastSeq).toBe(6);
      expect(final.members.map((m) => [m.userId, m.role])).toEqual([
        [owner.userId, 'owner'],
        [bob.userId, 'admin'],
      ]);
    });

    it('refuses admin actions to members (403) and owner actions to admins (403), writing nothing', async () => {
      const owner = await user('a-owner');
      const admin = await user('a-admin');
      const member = await user('a-member');
      const outsider = await user('a-out');
      const id = (await group(owner.client, 'Roles', [admin.userId, member.userId])).id;
      await owner.client.patch(`/conversations/${id}/members/${admin.userId}`, { role: 'admin' });
      const before = await counts();

      const refused = [
        await member.client.patch(`/conversations/${id}`, { name: 'Mine' }),
        await member.client.post(`/conversations/${id}/members`, { userIds: [outsider.userId] }),
        await member.client.delete(`/conversations/${id}/members/${admin.userId}`),
        await member.client.patch(`/conversations/${id}/members/${member.userId}`, { role: 'admin' }),
        await admin.client.patch(`/conversations/${id}/members/${member.userId}`, { role: 'admin' }),
        await admin.client.delete(`/conversations/${id}/members/${owner.userId}`),
      ];
      for (const answer of refused) {
        expect(answer.status, answer.text).toBe(403);
        expect(answer.body.error?.code).toBe('forbidden');
      }
      expect(await counts()).toEqual(before);
      expect((await admin.client.patch(`/conversations/${id}`, { name: 'Renamed by admin' })).status).toBe(200);
    });

    it('the last owner leaving hands the group to the longest-standing admin, else member', async () => {
      const owner = await user('l-owner');
      const early = await user('l-early');
      const admin = await user('l-admin');
      const id = (await group(owner.client, 'Handover', [early.userId])).id;
      await owner.client.post(`/conversations/${id}/members`, { userIds: [admin.userId] });
      await owner.client.patch(`/conversations/${id}/members/${admin.userId}`, { role: 'admin' });
      expect((await owner.client.delete(`/conversations/${id}/members/${owner.userId}`)).status).toBe(204);
      const after = (await admin.client.get(`/conversations/${id}`)).body.conversation as Conversation;
      expect(after.role).toBe('owner');
      expect((await events(id)).slice(-2)).toMatchObject([
        { event: 'member_left', userId: owner.userId },
        { event: 'role_changed', actorId: null, userId: admin.userId, role: 'owner' },
      ]);
      // No admin left: the longest-standing member.
      expect((await admin.client.delete(`/conversations/${id}/members/${admin.userId}`)).status).toBe(204);
      expect(((await early.client.get(`/conversations/${id}`)).body.conversation as Conversation).role).toBe('owner');
    });

    it('keeps at least one owner: the only owner cannot step down to admin', async () => {
      const owner = await user('o-owner');
      const id = (await group(owner.client, 'Solo', [])).id;
      const answer = await owner.client.patch(`/conversations/${id}/members/${owner.userId}`, { role: 'member' });
      expect(answer.status).toBe(409);
    });
  });

  describe('membership is checked on every read and write', () => {
    it('a non-member gets exactly the answer of a conversation that does not exist', async () => {
      const owner = await user('n-owner');
      const outsider = await user('n-out');
      const id = (await group(owner.client, 'Private', [])).id;
      const unknown = randomUUID();
      const calls = (target: string) => [
        () => outsider.client.get(`/conversations/${target}`),
        () => outsider.client.patch(`/conversations/${target}`, { name: 'x' }),
        () => outsider.client.post(`/conversations/${target}/members`, { userIds: [outsider.userId] }),
        () => outsider.client.delete(`/conversations/${target}/members/${outsider.userId}`),
        () => outsider.client.delete(`/conversations/${target}/members/${owner.userId}`),
        () => outsider.client.patch(`/conversations/${target}/members/${owner.userId}`, { role: 'member' }),
        () => outsider.client.get(`/conversations/${target}/messages`),
        () => outsider.client.post(`/conversations/${target}/read`, { seq: 1 }),
        () =>
          outsider.client.post(`/conversations/${target}/messages`, { clientMessageId: randomUUID(), envelopes: [] }),
      ];
      const before = await counts();
      const existing = calls(id);
      const missing = calls(unknown);
      for (const [index, call] of existing.entries()) {
        const a = await call();
        const b = await missing[index]?.();
        expect(a.status).toBe(404);
        expect(a.body).toEqual(b?.body);
        expect(a.body).toEqual({ error: { code: 'not_found', message: 'No such conversation' } });
      }
      expect(await counts()).toEqual(before);
      expect((await outsider.client.get('/conversations')).body.conversations).toEqual([]);
    });
  });

  describe('the conversation list', () => {
    it('lists the caller’s conversations, most recent first, with unread counts from their read marker', async () => {
      const alice = await user('u-alice');
      const bob = await user('u-bob');
      const carol = await user('u-carol');
      const direct = (await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId })).body
        .conversation as Conversation;
      const team = await group(alice.client, 'Team', [bob.userId]);
      await alice.client.patch(`/conversations/${team.id}`, { name: 'Team 2' });
      await alice.client.post(`/conversations/${team.id}/members`, { userIds: [carol.userId] });

      const forBob = (await bob.client.get('/conversations')).body.conversations as Conversation[];
      expect(forBob.map((c) => [c.id, c.lastSeq, c.unreadCount])).toEqual([
        [team.id, 3, 2],
        [direct.id, 1, 0],
      ]);
      const forAlice = (await alice.client.get('/conversations')).body.conversations as Conversation[];
      expect(forAlice.map((c) => c.unreadCount)).toEqual([0, 0]);
      const forCarol = (await carol.client.get('/conversations')).body.conversations as Conversation[];
      expect(forCarol).toMatchObject([{ id: team.id, name: 'Team 2', unreadCount: 0, role: 'member' }]);
      expect(forCarol[0]?.members).toHaveLength(3);
    });
  });

  describe('the timeline and the read marker', () => {
    it('reads the system events after a seq, oldest first, and pages with after and limit', async () => {
      const alice = await user('t-alice');
      const bob = await user('t-bob');
      const id = (await group(alice.client, 'Timeline', [bob.userId])).id;
      await alice.client.patch(`/conversations/${id}`, { name: 'Timeline 2' });
      const all = await bob.client.get(`/conversations/${id}/messages`);
      expect(all.status, all.text).toBe(200);
      expect(all.body).toMatchObject({
        lastSeq: 2,
        messages: [
          { seq: 1, type: 'system', senderId: alice.userId, event: { event: 'created' } },
          { seq: 2, type: 'system', senderId: alice.userId, event: { event: 'updated', name: 'Timeline 2' } },
        ],
      });
      const page = await bob.client.get(`/conversations/${id}/messages?after=1&limit=1`);
      expect((page.body.messages as { seq: number }[]).map((m) => m.seq)).toEqual([2]);
      const empty = await bob.client.get(`/conversations/${id}/messages?after=2`);
      expect(empty.body.messages).toEqual([]);
      for (const bad of ['after=-1', 'limit=0', 'limit=201', 'after=x']) {
        const answer = await bob.client.get(`/conversations/${id}/messages?${bad}`);
        expect(answer.status, bad).toBe(400);
        expect(answer.body.error?.code).toBe('validation_failed');
      }
    });

    it('moves forward only, never past the latest seq, and drives the unread count', async () => {
      const alice = await user('r-alice');
      const bob = await user('r-bob');
      const carol = await user('r-carol');
      const id = (await group(alice.client, 'Reads', [bob.userId])).id;
      await alice.client.patch(`/conversations/${id}`, { name: 'Reads 2' });
      await alice.client.post(`/conversations/${id}/members`, { userIds: [carol.userId] });
      const unread = async () =>
        ((await bob.client.get(`/conversations/${id}`)).body.conversation as Conversation).unreadCount;
      expect(await unread()).toBe(2);
      expect((await bob.client.post(`/conversations/${id}/read`, { seq: 2 })).body).toEqual({
        lastReadSeq: 2,
        unreadCount: 1,
      });
      expect((await bob.client.post(`/conversations/${id}/read`, { seq: 0 })).body).toEqual({
        lastReadSeq: 2,
        unreadCount: 1,
      });
      expect((await bob.client.post(`/conversations/${id}/read`, { seq: 99 })).body).toEqual({
        lastReadSeq: 3,
        unreadCount: 0,
      });
      expect(await unread()).toBe(0);
      for (const body of [{ seq: -1 }, { seq: 1.5 }, { seq: '2' }, {}]) {
        const answer = await bob.client.post(`/conversations/${id}/read`, body);
        expect(answer.status, JSON.stringify(body)).toBe(400);
      }
      expect(await unread()).toBe(0);
    });
  });

  describe('encrypted messages', () => {
    it('stores one envelope per recipient device and gives each device its own in the timeline', async () => {
      const alice = await userWithDevice('m-alice');
      const bob = await userWithDevice('m-bob');
      const carol = await userWithDevice('m-carol');
      const id = (await group(alice.client, 'Secret', [bob.userId, carol.userId])).id;
      const clientMessageId = randomUUID();
      const body = { clientMessageId, envelopes: [envelope(bob.userId, 1), envelope(carol.userId, 2)] };
      const sent = await alice.client.post(`/conversations/${id}/messages`, body);
      expect(sent.status, sent.text).toBe(201);
      expect(sent.body.seq).toBe(2);
      const retried = await alice.client.post(`/conversations/${id}/messages`, body);
      expect(retried.status).toBe(200);
      expect(retried.body).toEqual(sent.body);

      const forBob = (await bob.client.get(`/conversations/${id}/messages?after=1`)).body;
      expect(forBob).toEqual({
        lastSeq: 2,
        messages: [
          {
            seq: 2,
            type: 'message',
            senderId: alice.userId,
            senderDeviceId: 1,
            createdAt: sent.body.createdAt,
            envelope: { type: 'prekey', ciphertext: ciphertext(1) },
          },
        ],
      });
      const forCarol = (await carol.client.get(`/conversations/${id}/messages?after=1`)).body.messages;
      expect(forCarol).toMatchObject([{ envelope: { ciphertext: ciphertext(2) } }]);
      const forAlice = (await alice.client.get(`/conversations/${id}/messages?after=1`)).body.messages;
      expect(forAlice).toMatchObject([{ seq: 2, envelope: null }]);
      const unread = async (client: ApiClient) =>
        ((await client.get(`/conversations/${id}`)).body.conversation as Conversation).unreadCount;
      expect([await unread(alice.client), await unread(bob.client)]).toEqual([0, 1]);
    });

    it('refuses envelopes that miss or add a device (409 devices_changed, naming them), writing nothing', async () => {
      const alice = await userWithDevice('x-alice');
      const bob = await userWithDevice('x-bob');
      const carol = await userWithDevice('x-carol');
      const id = (await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId })).body
        .conversation as Conversation;
      const before = await counts();
      const missing = await alice.client.post(`/conversations/${id.id}/messages`, {
        clientMessageId: randomUUID(),
        envelopes: [],
      });
      expect(missing.status).toBe(409);
      expect(missing.body.error).toMatchObject({
        code: 'devices_changed',
        issues: [{ path: `${bob.userId}/1`, message: 'missing' }],
      });
      const extra = await alice.client.post(`/conversations/${id.id}/messages`, {
        clientMessageId: randomUUID(),
        envelopes: [envelope(bob.userId, 1), envelope(carol.userId, 2), envelope(bob.userId, 3, 2)],
      });
      expect(extra.status).toBe(409);
      expect((extra.body.error as { issues?: unknown } | undefined)?.issues).toEqual([
        { path: `${carol.userId}/1`, message: 'extra' },
        { path: `${bob.userId}/2`, message: 'extra' },
      ]);
      expect(await counts()).toEqual(before);
    });

    it('a session without a registered device may not send (403); bad envelopes are 400', async () => {
      const alice = await user('y-alice');
      const bob = await userWithDevice('y-bob');
      const id = (
        (await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId })).body
          .conversation as Conversation
      ).id;
      const noDevice = await alice.client.post(`/conversations/${id}/messages`, {
        clientMessageId: randomUUID(),
        envelopes: [envelope(bob.userId, 1)],
      });
      expect(noDevice.status).toBe(403);
      const bad = [
        { clientMessageId: 'x', envelopes: [] },
        { clientMessageId: randomUUID(), envelopes: [{ ...envelope(alice.userId, 1), ciphertext: 'not base64!' }] },
        { clientMessageId: randomUUID(), envelopes: [{ ...envelope(alice.userId, 1), type: 'plain' }] },
        { clientMessageId: randomUUID(), envelopes: [envelope(alice.userId, 1), envelope(alice.userId, 2)] },
        {
          clientMessageId: randomUUID(),
          envelopes: [{ ...envelope(alice.userId, 1), ciphertext: b64(new Uint8Array(64 * 1024 + 3)) }],
        },
      ];
      for (const body of bad) {
        const answer = await bob.client.post(`/conversations/${id}/messages`, body);
        expect(answer.status, answer.text).toBe(400);
        expect(answer.body.error?.code).toBe('validation_failed');
      }
    });

    it('concurrent sends get distinct, gap-free seqs', async () => {
      const alice = await userWithDevice('z-alice');
      const bob = await userWithDevice('z-bob');
      const id = (
        (await alice.client.post('/conversations', { kind: 'direct', userId: bob.userId })).body
          .conversation as Conversation
      ).id;
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          alice.client.post(`/conversations/${id}/messages`, {
            clientMessageId: randomUUID(),
            envelopes: [envelope(bob.userId, i + 1)],
          }),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(201));
      expect(answers.map((a) => a.body.seq as number).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      const timeline = (await bob.client.get(`/conversations/${id}/messages`)).body.messages as { seq: number }[];
      expect(timeline.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });
  });

  describe('bad input is a 4xx { error } and writes nothing', () => {
    it('malformed JSON, unknown users, duplicates, oversize names, self, already members', async () => {
      const alice = await user('b-alice');
      const bob = await user('b-bob');
      const id = (await group(alice.client, 'Base', [bob.userId])).id;
      const before = await counts();
      const raw = await fetch(`${fx.stack.restUrl}/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.client.accessToken}` },
        body: '{"kind": "group", ',
      });
      expect(raw.status).toBe(400);
      expect(((await raw.json()) as { error: { code: string } }).error.code).toBe('invalid_json');

      const cases: [Promise<{ status: number; body: { error?: { code: string } } }>, number, string][] = [
        [alice.client.post('/conversations', { kind: 'direct', userId: randomUUID() }), 400, 'unknown_user'],
        [
          alice.client.post('/conversations', { kind: 'group', name: 'G', memberIds: [bob.userId, randomUUID()] }),
          400,
          'unknown_user',
        ],
        [
          alice.client.post('/conversations', { kind: 'group', name: 'G', memberIds: [bob.userId, bob.userId] }),
          400,
          'validation_failed',
        ],
        [
          alice.client.post('/conversations', { kind: 'group', name: 'x'.repeat(101), memberIds: [] }),
          400,
          'validation_failed',
        ],
        [alice.client.post('/conversations', { kind: 'group', name: '   ', memberIds: [] }), 400, 'validation_failed'],
        [alice.client.post('/conversations', { kind: 'channel', name: 'G' }), 400, 'validation_failed'],
        [alice.client.post('/conversations', { kind: 'direct', userId: 'not-a-uuid' }), 400, 'validation_failed'],
        [alice.client.post('/conversations', { kind: 'direct', userId: alice.userId }), 400, 'validation_failed'],
        [
          alice.client.post('/conversations', { kind: 'group', name: 'G', memberIds: [alice.userId] }),
          400,
          'validation_failed',
        ],
        [alice.client.patch(`/conversations/${id}`, {}), 400, 'validation_failed'],
        [alice.client.patch(`/conversations/${id}`, { name: 'y'.repeat(101) }), 400, 'validation_failed'],
        [alice.client.post(`/conversations/${id}/members`, { userIds: [bob.userId] }), 409, 'conflict'],
        [alice.client.post(`/conversations/${id}/members`, { userIds: [randomUUID()] }), 400, 'unknown_user'],
        [alice.client.post(`/conversations/${id}/members`, { userIds: [] }), 400, 'validation_failed'],
        [alice.client.patch(`/conversations/${id}/members/${bob.userId}`, { role: 'god' }), 400, 'validation_failed'],
        [alice.client.delete(`/conversations/${id}/members/${randomUUID()}`), 404, 'not_found'],
        [alice.client.get('/conversations/not-a-uuid'), 400, 'validation_failed'],
      ];
      for (const [pending, status, code] of cases) {
        const answer = await pending;
        expect(answer.status, JSON.stringify(answer.body)).toBe(status);
        expect(answer.body.error?.code).toBe(code);
      }
      expect(await counts()).toEqual(before);
    });

    it('needs a token', async () => {
      const anonymous = await fetch(`${fx.stack.restUrl}/conversations`);
      expect(anonymous.status).toBe(401);
    });
  });
}
