import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteRecord } from './idb-tamper.ts';
import { eventually, type Person, person, texts } from './support.ts';

const fixture = stackOnFreshSchema({ redisDb: 8 });
let alice: Person;
let bob: Person;
let carol: Person;
let groupId: string;

beforeAll(async () => {
  [alice, bob, carol] = await Promise.all([
    person(fixture.stack, 'Alice'),
    person(fixture.stack, 'Bob'),
    person(fixture.stack, 'Carol'),
  ]);
});

afterAll(async () => {
  for (const p of [alice, bob, carol]) await p?.engine.close();
});

const systemTexts = (p: Person) =>
  p.engine
    .timeline(groupId)
    .value.items.filter((i) => i.kind === 'system')
    .map((i) => i.text);

describe('a group of three with Sender Keys', () => {
  it('creates and names a group; everyone sees the system events', async () => {
    groupId = await alice.engine.createGroup('Project X', [bob.id, carol.id]);
    await alice.engine.rename(groupId, 'Project Y');
    for (const p of [bob, carol]) {
      await eventually(() =>
        expect(p.engine.conversations.value.find((c) => c.id === groupId)).toMatchObject({
          kind: 'group',
          title: 'Project Y',
          members: expect.arrayContaining([expect.objectContaining({ userId: alice.id, role: 'owner' })]),
        }),
      );
      await eventually(() =>
        expect(systemTexts(p)).toEqual(['Alice created the conversation', 'Alice renamed the group to “Project Y”']),
      );
    }
  });

  it('delivers group messages from each member to the others (one sender-key ciphertext each)', async () => {
    await alice.engine.send(groupId, 'hello group');
    await eventually(() => expect(texts(bob.engine, groupId)).toEqual(['hello group']));
    await eventually(() => expect(texts(carol.engine, groupId)).toEqual(['hello group']));
    await bob.engine.send(groupId, 'hi from Bob');
    await carol.engine.send(groupId, 'hi from Carol');
    for (const p of [alice, bob, carol]) {
      await eventually(() =>
        expect(texts(p.engine, groupId).sort()).toEqual(['hello group', 'hi from Bob', 'hi from Carol']),
      );
    }
    expect(alice.events.filter((e) => e === 'sender_key.distributed')).toHaveLength(1);
  });

  it('changes roles', async () => {
    await alice.engine.changeRole(groupId, bob.id, 'admin');
    await eventually(() => expect(bob.engine.conversations.value.find((c) => c.id === groupId)?.myRole).toBe('admin'));
  });

  it('rotates sender keys when a member is removed: the removed member reads nothing new', async () => {
    await alice.engine.removeMember(groupId, carol.id);
    await eventually(() => expect(systemTexts(bob)).toContain('Alice removed Carol'));

    await alice.engine.send(groupId, 'secret plans');
    await bob.engine.send(groupId, 'more secret plans');
    await eventually(() => expect(texts(bob.engine, groupId)).toContain('secret plans'));
    await eventually(() => expect(texts(alice.engine, groupId)).toContain('more secret plans'));
    // New sender keys (one rotation each) went out to the remaining members only.
    for (const p of [alice, bob]) {
      expect(p.events.filter((e) => e === 'sender_key.rotated')).toHaveLength(1);
      expect(p.events.filter((e) => e === 'sender_key.distributed')).toHaveLength(2);
    }
    expect(alice.events).not.toContain('decrypt.failed');
    expect(bob.events).not.toContain('decrypt.failed');

    await carol.engine.refresh();
    expect(texts(carol.engine, groupId).sort()).toEqual(['hello group', 'hi from Bob', 'hi from Carol']);
    await eventually(() => expect(carol.engine.conversations.value.some((c) => c.id === groupId)).toBe(false));
  });

  it('adds a member, who reads new messages but not earlier ones, and lets a member leave', async () => {
    await bob.engine.addMembers(groupId, [carol.id]);
    await eventually(() => expect(carol.engine.conversations.value.some((c) => c.id === groupId)).toBe(true));
    await alice.engine.send(groupId, 'welcome back Carol');
    await eventually(() => expect(texts(carol.engine, groupId)).toContain('welcome back Carol'));
    expect(texts(carol.engine, groupId)).not.toContain('secret plans');

    await carol.engine.leave(groupId);
    await eventually(() => expect(systemTexts(alice)).toContain('Carol left'));
    await bob.engine.send(groupId, 'after Carol left');
    await eventually(() => expect(texts(alice.engine, groupId)).toContain('after Carol left'));
    await carol.engine.refresh();
    expect(texts(carol.engine, groupId)).not.toContain('after Carol left');
  });

  it('recovers a group message whose sender key this device lost: the sender re-sends its key and the message', async () => {
    await alice.engine.send(groupId, 'the current key is out'); // any pending rotation happens here
    await eventually(() => expect(texts(bob.engine, groupId)).toContain('the current key is out'));
    await deleteRecord(`${bob.dbPrefix}${bob.id}`, 'senderKeys', `${alice.id}.1::${groupId}`);
    await alice.engine.send(groupId, 'can you read this?');
    await eventually(() => expect(texts(bob.engine, groupId)).toContain('can you read this?'));
    expect(bob.events).toContain('resend.asked');
    const copies = texts(bob.engine, groupId).filter((t) => t === 'can you read this?');
    expect(copies).toHaveLength(1);
    expect(bob.engine.timeline(groupId).value.items.some((i) => i.kind === 'message' && i.decryptError !== null)).toBe(
      false,
    );
  });
});
