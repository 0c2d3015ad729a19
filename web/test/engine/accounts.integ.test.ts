import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { registered } from '@ciphertalk/infra/test/support/api.ts';
import { deviceKeys } from '@ciphertalk/infra/test/support/device-keys.ts';
import { stackOnFreshSchema } from '@ciphertalk/infra/test/support/stack-fixture.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineFor, eventually, messages, network, type Person, password, person, texts } from './support.ts';

// One claimer drains most of a device's prekeys below: past the production budget of 30 one-time prekeys
// per device an hour (issue 21), so the limits are scaled.
const fixture = stackOnFreshSchema({ env: { RATE_LIMIT_MULTIPLIER: '10' } });
let alice: Person;
let bob: Person;
let conversationId: string;

beforeAll(async () => {
  alice = await person(fixture.stack, 'Alice');
  bob = await person(fixture.stack, 'Bob');
  conversationId = await alice.engine.createDirect(bob.id);
});

afterAll(async () => {
  for (const p of [alice, bob]) await p?.engine.close();
});

async function resetTokenFor(email: string): Promise<string> {
  return eventually(async () => {
    for (const file of await readdir(fixture.stack.outboxDir)) {
      const mail = JSON.parse(await readFile(join(fixture.stack.outboxDir, file), 'utf8')) as {
        to: string;
        text: string;
      };
      const token = /token=([\w-]+)/.exec(mail.text)?.[1];
      if (mail.to === email && token) return token;
    }
    throw new Error('no reset mail yet');
  });
}

describe('accounts through the engine', () => {
  it('refuses a wrong password with the server code, and stays signed out', async () => {
    const engine = engineFor(fixture.stack, network(), 'wrong-');
    await expect(engine.login({ email: alice.email, password: 'not the password' })).rejects.toMatchObject({
      code: 'invalid_credentials',
      status: 401,
    });
    expect(engine.status.value).toBe('signed-out');
    await engine.close();
  });

  it('changes the display name, which the other side sees', async () => {
    await alice.engine.updateDisplayName('Alice Liddell');
    expect(alice.engine.me.value?.displayName).toBe('Alice Liddell');
    await bob.engine.refreshConversations();
    expect(bob.engine.conversations.value.find((c) => c.id === conversationId)?.title).toBe('Alice Liddell');
  });

  it('changes the password (the current one is checked) and logs in with the new one', async () => {
    await expect(alice.engine.changePassword('wrong current password', password())).rejects.toMatchObject({
      status: 401,
    });
    const next = password();
    await alice.engine.changePassword(alice.password, next);
    alice.password = next;
    const other = engineFor(fixture.stack, network(), 'newpw-');
    await other.login({ email: alice.email, password: next });
    expect(other.status.value).toBe('ready');
    await other.logout();
  });

  it('logs out (this device is retired) and sets up a new device on the next login, which receives new messages', async () => {
    await alice.engine.send(conversationId, 'before logout');
    await eventually(() => expect(texts(bob.engine, conversationId)).toContain('before logout'));
    await alice.engine.logout();
    expect(alice.engine.status.value).toBe('signed-out');
    expect(alice.engine.me.value).toBeNull();
    expect(alice.engine.conversations.value).toEqual([]);

    await alice.engine.login({ email: alice.email, password: alice.password });
    await alice.engine.refreshDevices();
    expect(alice.engine.devices.value).toHaveLength(1); // the old device was revoked at logout
    expect(texts(alice.engine, conversationId)).toEqual([]); // the old device's history went with it

    await bob.engine.send(conversationId, 'after your new login');
    await eventually(() => expect(texts(alice.engine, conversationId)).toEqual(['after your new login']));
    expect(messages(alice.engine, conversationId)[0]?.decryptError).toBeNull();
  });

  it('logs out everywhere: this engine signs out cleanly, another browser of the same user is signed out too', async () => {
    const other = engineFor(fixture.stack, network(), 'everywhere-');
    await other.login({ email: alice.email, password: alice.password });
    expect(other.status.value).toBe('ready');

    await alice.engine.logoutAll();

    expect(alice.engine.status.value).toBe('signed-out');
    expect(alice.engine.me.value).toBeNull();
    await other.refreshDevices().catch(() => undefined);
    await eventually(() => expect(other.status.value).toBe('signed-out'));
    await other.close();
    await alice.engine.login({ email: alice.email, password: alice.password });
    expect(alice.engine.status.value).toBe('ready');
  });

  it('resets a forgotten password with the mailed token, which ends every session', async () => {
    await alice.engine.requestPasswordReset(alice.email);
    const token = await resetTokenFor(alice.email);
    const next = password();
    await alice.engine.confirmPasswordReset(token, next);
    await expect(alice.engine.confirmPasswordReset(token, password())).rejects.toMatchObject({ code: 'invalid_token' });
    // The running engine's session is gone: its next authenticated call signs it out.
    await alice.engine.refreshDevices().catch(() => undefined);
    await eventually(() => expect(alice.engine.status.value).toBe('signed-out'));
    alice.password = next;
    await alice.engine.login({ email: alice.email, password: next });
    expect(alice.engine.status.value).toBe('ready');
  });

  it('pages back through a long history (loadOlder) without duplicates', async () => {
    for (let i = 1; i <= 60; i++) await bob.engine.send(conversationId, `history ${i}`);
    await eventually(() => expect(texts(alice.engine, conversationId)).toContain('history 60'), 30_000);
    const first = alice.engine.timeline(conversationId).value;
    expect(first.items).toHaveLength(50);
    expect(first.hasOlder).toBe(true);
    await alice.engine.loadOlder(conversationId);
    const all = texts(alice.engine, conversationId).filter((t) => t.startsWith('history'));
    expect(all).toEqual(Array.from({ length: 60 }, (_, i) => `history ${i + 1}`));
    const ids = alice.engine.timeline(conversationId).value.items.map((i) => i.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(alice.engine.timeline(conversationId).value.hasOlder).toBe(false);
  }, 90_000);

  it('tops up one-time prekeys when others have claimed most of them', async () => {
    const claimer = await registered(fixture.stack.restUrl, 'claimer');
    expect((await claimer.client.post('/devices', (await deviceKeys()).body())).status).toBe(201);
    await alice.engine.refreshDevices();
    const deviceId = alice.engine.devices.value.find((d) => d.current)?.deviceId;
    const before = alice.engine.devices.value.find((d) => d.current)?.preKeysRemaining ?? 0;
    for (let i = 0; i < before - 10; i++) {
      const answer = await claimer.client.get(`/users/${alice.id}/devices/${deviceId}/prekey-bundle`);
      expect(answer.status).toBe(200);
    }
    await alice.engine.refreshDevices();
    expect(alice.engine.devices.value.find((d) => d.current)?.preKeysRemaining).toBe(10);

    const engine = await alice.reload(); // the check runs at every start (and after each new session)
    await engine.refreshDevices();
    expect(engine.devices.value.find((d) => d.current)?.preKeysRemaining).toBe(110);
    expect(alice.events).toContain('prekeys.uploaded');
  });
});
