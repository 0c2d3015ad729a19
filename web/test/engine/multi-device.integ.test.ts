import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anotherBrowser, eventually, messages, type Person, person, texts } from './support.ts';

// The in-process connection registry (no Redis): one stack, one process.
const fixture = stackOnFreshSchema();
let alice: Person;
let bob: Person;
let bobPhone: Person;
let conversationId: string;

beforeAll(async () => {
  alice = await person(fixture.stack, 'Alice');
  bob = await person(fixture.stack, 'Bob');
  conversationId = await alice.engine.createDirect(bob.id);
  await alice.engine.send(conversationId, 'before the second device');
  await eventually(() => expect(texts(bob.engine, conversationId)).toEqual(['before the second device']));
  await alice.engine.markVerified(bob.id);
});

afterAll(async () => {
  for (const p of [alice, bob, bobPhone]) await p?.engine.close();
});

describe('one user on two devices', () => {
  it("reaches both of Bob's devices once the sender learns of the new one (409 devices_changed)", async () => {
    bobPhone = await anotherBrowser(fixture.stack, bob, 'BobPhone');
    await bobPhone.engine.refreshDevices();
    expect(bobPhone.engine.devices.value.map((d) => d.current)).toEqual([false, true]);

    // Alice's engine still thinks Bob has one device: the server refuses, the engine fetches the new one.
    expect(alice.events).not.toContain('devices.changed');
    await alice.engine.send(conversationId, 'to both of you');
    await eventually(() => expect(texts(bob.engine, conversationId)).toContain('to both of you'));
    await eventually(() => expect(texts(bobPhone.engine, conversationId)).toEqual(['to both of you']));
    expect(alice.events).toContain('devices.changed');
  });

  it("shows what one of Bob's devices sent on the other, as Bob's own", async () => {
    await bob.engine.send(conversationId, 'sent from the laptop');
    await eventually(() => expect(texts(alice.engine, conversationId)).toContain('sent from the laptop'));
    await eventually(() =>
      expect(messages(bobPhone.engine, conversationId).find((m) => m.text === 'sent from the laptop')).toMatchObject({
        mine: true,
        senderName: 'You',
      }),
    );
  });

  it("clears the unread count on Bob's other device when he reads on one", async () => {
    // Whether the phone already counts Bob's laptop message as having read what came before depends on when
    // it last refreshed the conversation list; a new message from Alice is unread on both either way.
    await alice.engine.send(conversationId, 'unread on both');
    await eventually(() => expect(texts(bobPhone.engine, conversationId)).toContain('unread on both'));
    await eventually(() =>
      expect(bobPhone.engine.conversations.value.find((c) => c.id === conversationId)?.unreadCount).toBeGreaterThan(0),
    );
    await bob.engine.markRead(conversationId);
    await eventually(() =>
      expect(bobPhone.engine.conversations.value.find((c) => c.id === conversationId)?.unreadCount).toBe(0),
    );
  });

  it("warns Alice, who had verified Bob, that Bob's safety number changed", async () => {
    const number = await alice.engine.safetyNumber(bob.id);
    expect(number).toMatchObject({ verified: false, identityChanged: true });
    expect((await bob.engine.safetyNumber(alice.id)).digits).toBe(number.digits);
    await alice.engine.acknowledgeIdentityChange(bob.id);
    expect(alice.engine.trust.value[bob.id]).toEqual({ verified: false, identityChanged: false });
  });

  it('keeps history, keys and sessions across a reload (a new engine on the same IndexedDB and cookie)', async () => {
    const before = texts(bob.engine, conversationId);
    const engine = await bob.reload();
    await eventually(() => expect(engine.status.value).toBe('ready'));
    expect(texts(engine, conversationId)).toEqual(before);
    await engine.refreshDevices();
    expect(engine.devices.value).toHaveLength(2); // no new device was registered

    await alice.engine.send(conversationId, 'after the reload');
    await eventually(() => expect(texts(engine, conversationId)).toContain('after the reload'));
    const afterReload = messages(engine, conversationId).filter((m) => m.text === 'after the reload');
    expect(afterReload).toHaveLength(1);
    expect(afterReload[0]?.decryptError).toBeNull();
  });

  it('revokes the other device: it is signed out, and senders stop encrypting for it', async () => {
    const phoneDevice = bob.engine.devices.value.find((d) => !d.current);
    expect(phoneDevice).toBeDefined();
    await bob.engine.revokeDevice(phoneDevice?.deviceId ?? 0);
    expect(bob.engine.devices.value).toHaveLength(1);
    await bobPhone.engine.refresh().catch(() => undefined);
    await eventually(() => expect(bobPhone.engine.status.value).toBe('signed-out'));
    expect(bobPhone.engine.problem.value).toMatch(/session ended/);

    await alice.engine.send(conversationId, 'only the laptop now');
    await eventually(() => expect(texts(bob.engine, conversationId)).toContain('only the laptop now'));
    expect(messages(alice.engine, conversationId).find((m) => m.text === 'only the laptop now')?.state).not.toBe(
      'failed',
    );
  });
});
