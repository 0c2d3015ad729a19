import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, messages, type Person, person, texts } from './support.ts';

const fixture = stackOnFreshSchema({ redisDb: 7 });
let alice: Person;
let bob: Person;
let conversationId: string;

beforeAll(async () => {
  alice = await person(fixture.stack, 'Alice');
  bob = await person(fixture.stack, 'Bob');
  conversationId = await alice.engine.createDirect(bob.id);
});

afterAll(async () => {
  await alice?.engine.close();
  await bob?.engine.close();
});

describe('direct conversation between two engines', () => {
  it('registers a device for each on first login and goes online', async () => {
    await eventually(() => expect(alice.engine.connection.value).toBe('online'));
    expect(alice.engine.status.value).toBe('ready');
    await alice.engine.refreshDevices();
    expect(alice.engine.devices.value).toEqual([expect.objectContaining({ current: true, preKeysRemaining: 100 })]);
  });

  it('delivers messages both ways, live, decrypted in the receiving engine', async () => {
    await alice.engine.send(conversationId, 'Hello Bob');
    await eventually(() => expect(texts(bob.engine, conversationId)).toEqual(['Hello Bob']));
    const received = messages(bob.engine, conversationId)[0];
    expect(received).toMatchObject({ senderId: alice.id, senderName: 'Alice', mine: false });
    await eventually(() =>
      expect(bob.engine.conversations.value.find((c) => c.id === conversationId)).toMatchObject({
        title: 'Alice',
        unreadCount: 1,
        lastMessage: { text: 'Hello Bob', senderName: 'Alice' },
      }),
    );

    // Bob's device acknowledged Alice's message: the server tells Alice it was delivered. (Checked before Bob
    // replies: his reply moves his read marker, so a later look at the conversation list may show it read.)
    await eventually(() => expect(messages(alice.engine, conversationId)[0]?.state).toBe('delivered'));

    await bob.engine.send(conversationId, 'Hi Alice', { replyTo: received });
    await eventually(() => expect(texts(alice.engine, conversationId)).toEqual(['Hello Bob', 'Hi Alice']));
    const reply = messages(alice.engine, conversationId)[1];
    expect(reply?.replyTo).toMatchObject({ contentId: received?.contentId, text: 'Hello Bob' });
    expect(alice.events).toContain('message.via_ws'); // message.send over the socket, not REST
  });

  it('turns a message read when the other side views the conversation', async () => {
    await bob.engine.markRead(conversationId);
    expect(bob.engine.conversations.value.find((c) => c.id === conversationId)?.unreadCount).toBe(0);
    await eventually(() => expect(messages(alice.engine, conversationId)[0]?.state).toBe('read'));
  });

  it('shows a message read that the other side read while this device was offline', async () => {
    await alice.engine.send(conversationId, 'Read this while I am away');
    await eventually(() => expect(texts(bob.engine, conversationId)).toContain('Read this while I am away'));
    await eventually(() => expect(messages(alice.engine, conversationId).at(-1)).toMatchObject({ state: 'delivered' }));
    alice.net.goOffline();
    await alice.engine.close();

    await bob.engine.markRead(conversationId); // the live receipt finds Alice gone

    alice.net.goOnline();
    await alice.reload();
    await eventually(() =>
      expect(messages(alice.engine, conversationId).at(-1)).toMatchObject({
        text: 'Read this while I am away',
        state: 'read',
      }),
    );
  });

  it("shows the peer's presence: online while connected, offline with a last-seen time after", async () => {
    alice.engine.timeline(conversationId); // opening a conversation asks for its members' presence
    await eventually(() =>
      expect(alice.engine.conversations.value.find((c) => c.id === conversationId)?.peer?.presence).toBe('online'),
    );
    bob.net.goOffline();
    await bob.engine.close();
    await eventually(() =>
      expect(alice.engine.conversations.value.find((c) => c.id === conversationId)?.peer).toMatchObject({
        presence: 'offline',
        lastSeenAt: expect.any(String),
      }),
    );
    bob.net.goOnline();
    await bob.reload();
    await eventually(() =>
      expect(alice.engine.conversations.value.find((c) => c.id === conversationId)?.peer?.presence).toBe('online'),
    );
  });

  it('shows typing while the other side types, and stops', async () => {
    await eventually(() => expect(bob.engine.connection.value).toBe('online'));
    bob.engine.setTyping(conversationId, true);
    await eventually(() => expect(alice.engine.typingIn(conversationId).value).toEqual([bob.id]));
    bob.engine.setTyping(conversationId, false);
    await eventually(() => expect(alice.engine.typingIn(conversationId).value).toEqual([]));
  });

  it('edits, deletes for everyone and reacts, on both sides', async () => {
    const original = await alice.engine.send(conversationId, 'Lunch at noon?');
    await eventually(() => expect(texts(bob.engine, conversationId)).toContain('Lunch at noon?'));

    await alice.engine.edit(original, 'Lunch at one?');
    await eventually(() =>
      expect(messages(bob.engine, conversationId).find((m) => m.contentId === original.contentId)).toMatchObject({
        text: 'Lunch at one?',
        edited: true,
      }),
    );

    await bob.engine.react(original, '👍');
    await eventually(() =>
      expect(messages(alice.engine, conversationId).find((m) => m.contentId === original.contentId)?.reactions).toEqual(
        [{ emoji: '👍', userIds: [bob.id], mine: false }],
      ),
    );
    await bob.engine.react(original, '👍'); // a second time takes it back
    await eventually(() =>
      expect(messages(alice.engine, conversationId).find((m) => m.contentId === original.contentId)?.reactions).toEqual(
        [],
      ),
    );

    await alice.engine.deleteForEveryone(original);
    await eventually(() =>
      expect(messages(bob.engine, conversationId).find((m) => m.contentId === original.contentId)).toMatchObject({
        text: '',
        deleted: true,
      }),
    );
    // Bob cannot edit Alice's message.
    await expect(bob.engine.edit(original, 'forged')).rejects.toMatchObject({ code: 'forbidden' });
    // Control messages (edit, reactions, delete) are not timeline items of their own.
    expect(texts(bob.engine, conversationId)).toEqual(['Hello Bob', 'Hi Alice', 'Read this while I am away', '']);
  });

  it('shows the same 60-digit safety number on both sides and tracks verification', async () => {
    const fromAlice = await alice.engine.safetyNumber(bob.id);
    const fromBob = await bob.engine.safetyNumber(alice.id);
    expect(fromAlice.digits).toMatch(/^\d{60}$/);
    expect(fromAlice.groups).toHaveLength(12);
    expect(fromBob.digits).toBe(fromAlice.digits);
    expect(fromAlice).toMatchObject({ verified: false, identityChanged: false });
    // The security information names each session's key agreement: post-quantum here, on both sides.
    expect(fromAlice.sessions).toEqual([{ deviceId: expect.any(Number), kind: 'pqxdh' }]);
    expect(fromBob.sessions).toEqual([{ deviceId: expect.any(Number), kind: 'pqxdh' }]);
    // Scanning each other's QR codes matches; scanning one's own does not.
    expect(await alice.engine.compareScanned(bob.id, fromBob.qrPayload)).toBe(true);
    expect(await alice.engine.compareScanned(bob.id, fromAlice.qrPayload)).toBe(false);

    await alice.engine.markVerified(bob.id);
    expect(alice.engine.trust.value[bob.id]).toEqual({ verified: true, identityChanged: false });
    expect((await alice.engine.safetyNumber(bob.id)).verified).toBe(true);
  });

  it('finds an old message in the local search index, by word prefix, and not deleted ones', async () => {
    await bob.engine.send(conversationId, 'The quarterly figures are attached');
    await eventually(() => expect(texts(alice.engine, conversationId)).toContain('The quarterly figures are attached'));
    for (const engine of [alice.engine, bob.engine]) {
      const hits = await engine.search('QUARTER fig');
      expect(hits).toEqual([
        expect.objectContaining({
          conversationId,
          snippet: 'The quarterly figures are attached',
          senderName: expect.any(String),
        }),
      ]);
    }
    expect(await alice.engine.search('lunch')).toEqual([]); // edited, then deleted
    expect(await alice.engine.search('nothing-like-this')).toEqual([]);
  });
});
