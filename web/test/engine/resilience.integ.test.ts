import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecryptErrorView } from '../../src/engine/types.ts';
import { deleteRecord } from './idb-tamper.ts';
import { eventually, messages, type Person, person, texts } from './support.ts';

const fixture = stackOnFreshSchema({ redisDb: 9 });
let alice: Person;
let bob: Person;
let conversationId: string;

beforeAll(async () => {
  alice = await person(fixture.stack, 'Alice');
  bob = await person(fixture.stack, 'Bob');
  conversationId = await alice.engine.createDirect(bob.id);
  await alice.engine.send(conversationId, 'hello');
  await eventually(() => expect(texts(bob.engine, conversationId)).toEqual(['hello']));
  await bob.engine.send(conversationId, 'hello back');
  await eventually(() => expect(texts(alice.engine, conversationId)).toEqual(['hello', 'hello back']));
});

afterAll(async () => {
  await alice?.engine.close();
  await bob?.engine.close();
});

const once = (list: readonly string[], text: string) => list.filter((t) => t === text).length;

describe('offline, lost answers, reloads and undecryptable messages', () => {
  it('queues sends while offline and delivers everything exactly once after reconnecting on its own', async () => {
    bob.net.goOffline();
    await eventually(() => expect(bob.engine.connection.value).not.toBe('online'));
    await alice.engine.send(conversationId, 'while Bob is away 1');
    await alice.engine.send(conversationId, 'while Bob is away 2');
    await eventually(() =>
      expect(
        messages(alice.engine, conversationId)
          .slice(2)
          .map((m) => m.state),
      ).toEqual(['sent', 'sent']),
    );

    alice.net.goOffline();
    await eventually(() => expect(alice.engine.connection.value).not.toBe('online'));
    await alice.engine.send(conversationId, 'while both are away 1');
    await alice.engine.send(conversationId, 'while both are away 2');
    expect(
      messages(alice.engine, conversationId)
        .slice(-2)
        .map((m) => m.state),
    ).toEqual(['sending', 'sending']);

    alice.net.goOnline();
    bob.net.goOnline();
    // No refresh(): the engines reconnect (backoff), flush the outbox and run /sync by themselves.
    await eventually(() => expect(alice.engine.connection.value).toBe('online'), 40_000);
    await eventually(() => expect(bob.engine.connection.value).toBe('online'), 40_000);
    const expected = ['while Bob is away 1', 'while Bob is away 2', 'while both are away 1', 'while both are away 2'];
    await eventually(() => expect(texts(bob.engine, conversationId).slice(2)).toEqual(expected), 20_000);
    // (Delivered receipts are live frames only: one that fires before Alice's socket is back is not replayed.)
    await eventually(() =>
      expect(
        messages(alice.engine, conversationId)
          .slice(-2)
          .map((m) => m.state),
      ).toEqual([expect.stringMatching(/sent|delivered/), expect.stringMatching(/sent|delivered/)]),
    );
    expect(messages(alice.engine, conversationId).map((m) => m.seq)).not.toContain(null);
    for (const text of expected) expect(once(texts(bob.engine, conversationId), text)).toBe(1);
  }, 90_000);

  it('never shows a message twice when the answer to a send was lost and the send is retried', async () => {
    // Over REST (no socket), the server stores the message and its answer is lost on the way back.
    alice.net.blockSockets(true);
    await eventually(() => expect(alice.engine.connection.value).not.toBe('online'));
    alice.net.loseAnswerTo(/^POST \/conversations\/[^/]+\/messages$/);
    await alice.engine.send(conversationId, 'exactly once');
    await eventually(() => expect(alice.events).toContain('message.send_deferred'));
    alice.net.blockSockets(false);
    await alice.engine.refresh(); // the retry timer would do this a little later
    await eventually(() => expect(texts(bob.engine, conversationId)).toContain('exactly once'));
    await eventually(() =>
      expect(messages(alice.engine, conversationId).find((m) => m.text === 'exactly once')?.state).toMatch(
        /sent|delivered/,
      ),
    );
    expect(alice.events).toContain('message.via_rest');
    expect(once(texts(bob.engine, conversationId), 'exactly once')).toBe(1);
    expect(once(texts(alice.engine, conversationId), 'exactly once')).toBe(1);
    const seqs = messages(alice.engine, conversationId).map((m) => m.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('keeps the outbox across a reload: what was queued offline is sent by the next engine', async () => {
    alice.net.goOffline();
    await alice.engine.send(conversationId, 'queued before the reload');
    alice.net.goOnline();
    await alice.reload();
    await eventually(() => expect(texts(bob.engine, conversationId)).toContain('queued before the reload'));
    expect(once(texts(alice.engine, conversationId), 'queued before the reload')).toBe(1);
  });

  it('catches up with /sync after a reload: what arrived while the page was closed shows once', async () => {
    await bob.engine.close();
    await alice.engine.send(conversationId, 'while the page was closed 1');
    await alice.engine.send(conversationId, 'while the page was closed 2');
    await eventually(() =>
      expect(messages(alice.engine, conversationId).filter((m) => m.state === 'sending')).toEqual([]),
    );
    const engine = await bob.reload();
    await eventually(() =>
      expect(texts(engine, conversationId).slice(-2)).toEqual([
        'while the page was closed 1',
        'while the page was closed 2',
      ]),
    );
    expect(once(texts(engine, conversationId), 'while the page was closed 1')).toBe(1);
    expect(once(texts(engine, conversationId), 'hello')).toBe(1); // history from the local store, not again
  });

  it('shows why a message could not be decrypted, then recovers it from the sender', async () => {
    // Bob's device loses its session with Alice's device (as after restoring an old backup).
    await deleteRecord(`${bob.dbPrefix}${bob.id}`, 'sessions', `${alice.id}.1`);
    const seen: (DecryptErrorView | null)[] = [];
    const stop = bob.engine.timeline(conversationId).subscribe((view) => {
      for (const item of view.items) if (item.kind === 'message' && item.decryptError) seen.push(item.decryptError);
    });
    try {
      await alice.engine.send(conversationId, 'after the session was lost');
      // Bob sees the failure with its reason, asks Alice's device to send again, and gets the text in place.
      await eventually(() => expect(texts(bob.engine, conversationId)).toContain('after the session was lost'));
    } finally {
      stop();
    }
    expect(seen[0]).toMatchObject({ code: 'no_session', recovering: true, reason: expect.stringMatching(/session/) });
    expect(bob.events).toContain('resend.asked');
    expect(alice.events).toContain('resend.requested');
    const recovered = messages(bob.engine, conversationId).filter((m) => m.text === 'after the session was lost');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.decryptError).toBeNull();
    expect(messages(bob.engine, conversationId).some((m) => m.decryptError !== null)).toBe(false);

    // And the new session works both ways.
    await bob.engine.send(conversationId, 'back in business');
    await eventually(() => expect(texts(alice.engine, conversationId)).toContain('back in business'));
  });
});
