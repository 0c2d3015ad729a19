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

    await bob.engine.send(conversationId, 'Hi Alice', { replyTo: received });
    await eventually(() => expect(texts(alice.engine, conversationId)).toEqual(['Hello Bob', 'Hi Alice']));
    const reply = messages(alice.engine, conversationId)[1];
    expect(reply?.replyTo).toMatchObject({ contentId: received?.contentId, text: 'Hello Bob' });
    await eventually(() => expect(messages(alice.engine, conversationId)[0]?.state).toMatch(/delivered|read/));
  });
});
