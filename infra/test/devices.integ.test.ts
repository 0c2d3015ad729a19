import { randomUUID } from 'node:crypto';
import { IdentityKey, IdentityKeyPair, PreKeyBundle, PublicKey, SignedPreKeyRecord } from '@ciphertalk/shared/crypto';
import { describe, expect, it } from 'vitest';
import { ApiClient, registered } from './support/api.ts';
import { b64, deviceKeys, preKeysJson, signedPreKeyJson } from './support/device-keys.ts';
import { stackOnFreshSchema } from './support/stack-fixture.ts';

/** Devices, prekeys and bundle claims through the twin on real PostgreSQL, with real keys from the E2E library. */
const fx = stackOnFreshSchema({ env: { RATE_LIMIT_MULTIPLIER: '100' } });

/** A user with one registered device (a login whose session owns it). */
async function withDevice(label: string, preKeys = 5) {
  const account = await registered(fx.stack.restUrl, label);
  const keys = await deviceKeys({ preKeys });
  const answer = await account.client.post('/devices', keys.body(`${label} laptop`));
  if (answer.status !== 201) throw new Error(`device registration failed: ${answer.status} ${answer.text}`);
  return { ...account, keys, deviceId: (answer.body.device as { deviceId: number }).deviceId };
}

async function secondLogin(account: { email: string; password: string }) {
  const client = new ApiClient(fx.stack.restUrl);
  const answer = await client.post('/auth/login', { email: account.email, password: account.password });
  if (answer.status !== 200) throw new Error('login failed');
  return client;
}

describe('device registration', () => {
  it("registers the session's device with verified keys and binds the session to it at once", async () => {
    const { client } = await registered(fx.stack.restUrl, 'reg');
    const keys = await deviceKeys({ preKeys: 5 });
    const answer = await client.post('/devices', keys.body());
    expect(answer.status).toBe(201);
    expect(answer.body.device).toMatchObject({
      deviceId: 1,
      name: 'Laptop',
      registrationId: 4242,
      identityKey: b64(keys.identity.publicKey.serialize()),
      current: true,
      preKeysRemaining: 5,
    });
    expect((await client.get('/me')).body.session).toMatchObject({ deviceId: 1 });
    const again = await client.post('/devices', (await deviceKeys()).body());
    expect(again.status).toBe(409);
  });

  it('refuses a signed prekey not signed by the identity key, a tampered signature and malformed keys', async () => {
    const { client } = await registered(fx.stack.restUrl, 'badkeys');
    const keys = await deviceKeys();
    const otherIdentity = IdentityKeyPair.generate();
    const forged = signedPreKeyJson(SignedPreKeyRecord.generate(1, otherIdentity));
    const cases = [
      { ...keys.body(), signedPreKey: forged },
      {
        ...keys.body(),
        signedPreKey: { ...keys.body().signedPreKey, signature: b64(new Uint8Array(64).fill(7)) },
      },
      { ...keys.body(), identityKey: b64(Uint8Array.of(0x05, ...keys.identity.publicKey.raw())) },
      { ...keys.body(), preKeys: [{ keyId: 9, publicKey: b64(Uint8Array.of(0x06, ...new Uint8Array(32).fill(1))) }] },
    ];
    for (const body of cases) {
      const answer = await client.post('/devices', body);
      expect(answer.status, answer.text).toBe(400);
      expect(answer.body.error?.code).toBe('invalid_key');
    }
    const short = await client.post('/devices', { ...keys.body(), identityKey: b64(new Uint8Array(32)) });
    expect(short.body.error?.code).toBe('validation_failed');
    expect((await client.get('/devices')).body.devices).toEqual([]);
  });

  it("lists the user's devices, numbered per user and never reused after revocation", async () => {
    const alice = await withDevice('list');
    const second = await secondLogin(alice);
    expect((await second.post('/devices', (await deviceKeys()).body('Phone'))).body.device).toMatchObject({
      deviceId: 2,
    });
    const listed = await alice.client.get('/devices');
    expect(listed.body.devices).toMatchObject([
      { deviceId: 1, current: true },
      { deviceId: 2, name: 'Phone', current: false },
    ]);
    expect((await alice.client.delete('/devices/2')).status).toBe(200);
    const third = await secondLogin(alice);
    expect((await third.post('/devices', (await deviceKeys()).body('Tablet'))).body.device).toMatchObject({
      deviceId: 3,
    });
  });
});

describe('device revocation and ownership', () => {
  it('revoking a device ends its sessions at once: access and refresh tokens stop working', async () => {
    const alice = await withDevice('revoke');
    const phone = await secondLogin(alice);
    await phone.post('/devices', (await deviceKeys()).body('Phone'));
    const phoneCookie = phone.refreshCookie;
    const answer = await alice.client.delete('/devices/2');
    expect(answer.body).toEqual({ revokedSessions: 1 });
    expect((await phone.get('/me')).status).toBe(401);
    phone.refreshCookie = phoneCookie;
    expect((await phone.post('/auth/refresh')).status).toBe(401);
    expect((await alice.client.get('/me')).status).toBe(200);
    expect((await alice.client.delete('/devices/2')).status).toBe(404);
    const types = ((await alice.client.get('/me/audit')).body.events as { type: string }[]).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['device_registered', 'device_revoked']));
  });

  it('ending a session ends its device: signed out elsewhere, everywhere or by a new password', async () => {
    const alice = await withDevice('orphans');
    const bob = await withDevice('orphans-bob');
    const liveDevices = async () =>
      ((await bob.client.get(`/users/${alice.userId}/devices`)).body.devices as { deviceId: number }[]).map(
        (device) => device.deviceId,
      );
    const phone = await secondLogin(alice);
    await phone.post('/devices', (await deviceKeys()).body('Phone'));
    const tablet = await secondLogin(alice);
    await tablet.post('/devices', (await deviceKeys()).body('Tablet'));
    expect(await liveDevices()).toEqual([1, 2, 3]);

    // One session ended from another: its device is no longer a recipient, and hands out no more prekeys.
    const phoneSession = (await phone.get('/me')).body.session as { id: string };
    expect((await alice.client.delete(`/me/sessions/${phoneSession.id}`)).status).toBe(204);
    expect(await liveDevices()).toEqual([1, 3]);
    expect((await bob.client.get(`/users/${alice.userId}/devices/2/prekey-bundle`)).status).toBe(404);

    // A new password ends the other sessions and their devices, and keeps the caller's.
    const changed = await alice.client.post('/me/password', {
      currentPassword: alice.password,
      newPassword: `${alice.password}-2`,
    });
    expect(changed.status, changed.text).toBe(200);
    expect(await liveDevices()).toEqual([1]);

    // Everywhere: the last one goes too.
    expect((await alice.client.post('/auth/logout-all')).status).toBe(200);
    expect(await liveDevices()).toEqual([]);
  });

  it("never reaches another user's device: paths name the caller's own devices only", async () => {
    const alice = await withDevice('owner');
    const alicePhone = await secondLogin(alice);
    await alicePhone.post('/devices', (await deviceKeys()).body('Phone'));
    const mallory = await withDevice('mallory');
    expect((await mallory.client.delete('/devices/2')).status).toBe(404);
    expect((await alice.client.get('/devices')).body.devices).toHaveLength(2);
  });

  it("lets only the device itself change its keys, not the user's other devices", async () => {
    const alice = await withDevice('keys');
    const phone = await secondLogin(alice);
    await phone.post('/devices', (await deviceKeys()).body('Phone'));
    const upload = await phone.post('/devices/1/prekeys', { preKeys: await preKeysJson(100, 2) });
    expect(upload.status).toBe(403);
    const rotate = await phone.put('/devices/1/signed-prekey', {
      signedPreKey: signedPreKeyJson(SignedPreKeyRecord.generate(2, IdentityKeyPair.generate())),
    });
    expect(rotate.status).toBe(403);
    const unbound = new ApiClient(fx.stack.restUrl);
    await unbound.post('/auth/login', { email: alice.email, password: alice.password });
    expect((await unbound.post('/devices/1/prekeys', { preKeys: await preKeysJson(200, 1) })).status).toBe(403);
  });

  it('takes more prekeys and a new signed prekey from the device, checking them', async () => {
    const alice = await withDevice('rotate', 2);
    const more = await alice.client.post('/devices/1/prekeys', { preKeys: await preKeysJson(10, 3) });
    expect(more.body).toEqual({ preKeysRemaining: 5 });
    const dup = await alice.client.post('/devices/1/prekeys', { preKeys: await preKeysJson(10, 1) });
    expect(dup.status).toBe(409);
    const tooMany = await alice.client.post('/devices/1/prekeys', { preKeys: await preKeysJson(1000, 101) });
    expect(tooMany.status).toBe(400);
    const next = SignedPreKeyRecord.generate(7, alice.keys.identity);
    expect((await alice.client.put('/devices/1/signed-prekey', { signedPreKey: signedPreKeyJson(next) })).status).toBe(
      204,
    );
    const foreign = SignedPreKeyRecord.generate(8, IdentityKeyPair.generate());
    const refused = await alice.client.put('/devices/1/signed-prekey', { signedPreKey: signedPreKeyJson(foreign) });
    expect(refused.body.error?.code).toBe('invalid_key');
    const bob = await withDevice('rotate-bob');
    const bundle = (await bob.client.get(`/users/${alice.userId}/devices/1/prekey-bundle`)).body.bundle as {
      signedPreKey: { keyId: number };
    };
    expect(bundle.signedPreKey.keyId).toBe(7);
  });
});

describe('prekey bundles', () => {
  const toCrypto = (bundle: {
    deviceId: number;
    registrationId: number;
    identityKey: string;
    signedPreKey: { keyId: number; publicKey: string; signature: string };
    preKey: { keyId: number; publicKey: string } | null;
  }) =>
    PreKeyBundle.create({
      registrationId: bundle.registrationId,
      deviceId: bundle.deviceId,
      identityKey: IdentityKey.deserialize(Buffer.from(bundle.identityKey, 'base64')),
      signedPreKeyId: bundle.signedPreKey.keyId,
      signedPreKey: PublicKey.deserialize(Buffer.from(bundle.signedPreKey.publicKey, 'base64')),
      signedPreKeySignature: Buffer.from(bundle.signedPreKey.signature, 'base64'),
      preKeyId: bundle.preKey?.keyId,
      preKey: bundle.preKey ? PublicKey.deserialize(Buffer.from(bundle.preKey.publicKey, 'base64')) : undefined,
    });

  it('hands out bundles the E2E library accepts, each one-time prekey once, then none', async () => {
    const alice = await withDevice('bundle', 2);
    const bob = await withDevice('bundle-bob');
    const claims = [];
    for (let i = 0; i < 3; i++) {
      const answer = await bob.client.get(`/users/${alice.userId}/devices/1/prekey-bundle`);
      expect(answer.status).toBe(200);
      claims.push(answer.body.bundle as Parameters<typeof toCrypto>[0]);
    }
    expect(claims.map((b) => b.preKey?.keyId ?? null)).toEqual([1, 2, null]);
    for (const bundle of claims) expect(toCrypto(bundle).verifySignature()).toBe(true);
    expect(claims[0]?.identityKey).toBe(b64(alice.keys.identity.publicKey.serialize()));
    expect((await alice.client.get('/devices')).body.devices).toMatchObject([{ preKeysRemaining: 0 }]);
  });

  it('gives a bundle for every live device of a user, and lists them', async () => {
    const alice = await withDevice('all', 3);
    const phone = await secondLogin(alice);
    await phone.post('/devices', (await deviceKeys()).body('Phone'));
    await phone.post('/devices', {});
    const bob = await withDevice('all-bob');
    const answer = await bob.client.get(`/users/${alice.userId}/prekey-bundles`);
    expect((answer.body.bundles as { deviceId: number }[]).map((b) => b.deviceId)).toEqual([1, 2]);
    const listed = await bob.client.get(`/users/${alice.userId}/devices`);
    expect(listed.body).toEqual({
      userId: alice.userId,
      devices: [
        {
          deviceId: 1,
          registrationId: 4242,
          identityKey: b64(alice.keys.identity.publicKey.serialize()),
          postQuantum: false,
        },
        { deviceId: 2, registrationId: 4242, identityKey: expect.any(String), postQuantum: false },
      ],
    });
    expect(JSON.stringify(listed.body)).not.toMatch(/laptop|Phone|preKeys/i);
  });

  it('refuses claims from a session without a device, and for unknown users or devices', async () => {
    const alice = await withDevice('refuse');
    const { client: noDevice } = await registered(fx.stack.restUrl, 'nodevice');
    expect((await noDevice.get(`/users/${alice.userId}/devices/1/prekey-bundle`)).status).toBe(403);
    expect((await noDevice.get(`/users/${alice.userId}/prekey-bundles`)).status).toBe(403);
    const bob = await withDevice('refuse-bob');
    expect((await bob.client.get(`/users/${randomUUID()}/prekey-bundles`)).status).toBe(404);
    expect((await bob.client.get(`/users/${alice.userId}/devices/9/prekey-bundle`)).status).toBe(404);
    expect((await bob.client.get('/users/not-a-uuid/prekey-bundles')).status).toBe(400);
  });

  it('under concurrent claims hands out every one-time prekey exactly once', async () => {
    const alice = await withDevice('race', 20);
    const claimers = await Promise.all([withDevice('race-b'), withDevice('race-c'), withDevice('race-d')]);
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        (claimers[i % 3] as (typeof claimers)[number]).client.get(`/users/${alice.userId}/devices/1/prekey-bundle`),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(30).fill(200));
    const keyIds = answers.map((a) => (a.body.bundle as { preKey: { keyId: number } | null }).preKey?.keyId ?? null);
    const handedOut = keyIds.filter((id): id is number => id !== null);
    expect(handedOut).toHaveLength(20);
    expect(new Set(handedOut).size).toBe(20);
    expect(keyIds.filter((id) => id === null)).toHaveLength(10);
  });
});
