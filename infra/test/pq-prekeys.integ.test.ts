import {
  IdentityKey,
  IdentityKeyPair,
  KemPublicKey,
  PqPreKeyRecord,
  PreKeyBundle,
  PublicKey,
} from '@ciphertalk/shared/crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ApiClient, registered } from './support/api.ts';
import { b64, deviceKeys, pqPreKeyJson } from './support/device-keys.ts';
import { type StackFixture, stackOnFreshSchema } from './support/stack-fixture.ts';

/** The PQXDH key directory through the twin on real PostgreSQL: ML-KEM prekeys stored, checked, claimed once. */
const fx = stackOnFreshSchema({ env: { RATE_LIMIT_MULTIPLIER: '100' } });

async function withDevice(
  label: string,
  options: { pqPreKeys?: number; preKeys?: number } = {},
  on: StackFixture = fx,
) {
  const account = await registered(on.stack.restUrl, label);
  const keys = await deviceKeys(options);
  const answer = await account.client.post('/devices', keys.body(`${label} laptop`));
  if (answer.status !== 201) throw new Error(`device registration failed: ${answer.status} ${answer.text}`);
  return { ...account, keys };
}

interface BundleJson {
  deviceId: number;
  registrationId: number;
  identityKey: string;
  signedPreKey: { keyId: number; publicKey: string; signature: string };
  preKey: { keyId: number; publicKey: string } | null;
  pqPreKey: { keyId: number; publicKey: string; signature: string; lastResort: boolean } | null;
}

const bytes = (value: string) => new Uint8Array(Buffer.from(value, 'base64'));
const toCrypto = (bundle: BundleJson) =>
  PreKeyBundle.create({
    registrationId: bundle.registrationId,
    deviceId: bundle.deviceId,
    identityKey: IdentityKey.deserialize(bytes(bundle.identityKey)),
    signedPreKeyId: bundle.signedPreKey.keyId,
    signedPreKey: PublicKey.deserialize(bytes(bundle.signedPreKey.publicKey)),
    signedPreKeySignature: bytes(bundle.signedPreKey.signature),
    pqPreKeyId: bundle.pqPreKey?.keyId,
    pqPreKey: bundle.pqPreKey ? KemPublicKey.deserialize(bytes(bundle.pqPreKey.publicKey)) : undefined,
    pqPreKeySignature: bundle.pqPreKey ? bytes(bundle.pqPreKey.signature) : undefined,
  });

describe('PQ prekeys at registration', () => {
  it('stores a last-resort and one-time ML-KEM prekeys and says the device is post-quantum', async () => {
    const alice = await withDevice('pq-reg', { pqPreKeys: 3 });
    expect((await alice.client.get('/devices')).body.devices).toMatchObject([
      { deviceId: 1, postQuantum: true, pqPreKeysRemaining: 3, preKeysRemaining: 5 },
    ]);
    const bob = await withDevice('pq-reg-bob');
    const listed = await bob.client.get(`/users/${alice.userId}/devices`);
    expect(listed.body.devices).toMatchObject([{ deviceId: 1, postQuantum: true }]);
    expect((await bob.client.get('/devices')).body.devices).toMatchObject([{ postQuantum: false }]);
  });

  it('refuses a PQ prekey signed by another identity, a tampered signature, a malformed key, a wrong size', async () => {
    const { client } = await registered(fx.stack.restUrl, 'pq-bad');
    const keys = await deviceKeys({ pqPreKeys: 1 });
    const body = keys.body();
    const foreign = pqPreKeyJson(PqPreKeyRecord.generate(1000, IdentityKeyPair.generate(), { lastResort: true }));
    const notMlKem = Uint8Array.of(0x08, ...new Uint8Array(1568).fill(0xff));
    const cases = [
      { ...body, pqLastResortPreKey: foreign },
      { ...body, pqPreKeys: [{ ...body.pqPreKeys?.[0], signature: b64(new Uint8Array(64).fill(3)) }] },
      { ...body, pqLastResortPreKey: { ...body.pqLastResortPreKey, publicKey: b64(notMlKem) } },
      { ...body, pqLastResortPreKey: undefined },
    ];
    for (const refused of cases) {
      const answer = await client.post('/devices', refused);
      expect(answer.status, answer.text).toBe(400);
      expect(answer.body.error?.code).toBe('invalid_key');
    }
    const short = await client.post('/devices', {
      ...body,
      pqLastResortPreKey: { ...body.pqLastResortPreKey, publicKey: b64(new Uint8Array(1568)) },
    });
    expect(short.status).toBe(400);
    expect(short.body.error?.code).toBe('validation_failed');
    expect((await client.get('/devices')).body.devices).toEqual([]);
  });
});

describe('PQ prekeys in bundles', () => {
  it('hands out each one-time PQ prekey once, then the last-resort one; the E2E library accepts them', () =>
    claimsOneTimeThenLastResort(fx));

  it('gives classical devices bundles without a PQ prekey', async () => {
    const carol = await withDevice('pq-classical');
    const bob = await withDevice('pq-classical-bob');
    const answer = await bob.client.get(`/users/${carol.userId}/prekey-bundles`);
    expect((answer.body.bundles as BundleJson[]).map((b) => b.pqPreKey)).toEqual([null]);
  });

  it('under concurrent claims hands out every one-time PQ prekey exactly once, the rest last resort', async () => {
    const alice = await withDevice('pq-race', { pqPreKeys: 12, preKeys: 12 });
    const claimers = await Promise.all([withDevice('pq-race-b'), withDevice('pq-race-c'), withDevice('pq-race-d')]);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (claimers[i % 3] as (typeof claimers)[number]).client.get(`/users/${alice.userId}/devices/1/prekey-bundle`),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    const bundles = answers.map((a) => a.body.bundle as BundleJson);
    const oneTime = bundles.filter((b) => b.pqPreKey?.lastResort === false).map((b) => b.pqPreKey?.keyId);
    expect(oneTime).toHaveLength(12);
    expect(new Set(oneTime).size).toBe(12);
    expect(bundles.filter((b) => b.pqPreKey?.lastResort === true)).toHaveLength(8);
    const classical = bundles.map((b) => b.preKey?.keyId).filter((id) => id !== undefined);
    expect(new Set(classical).size).toBe(12);
  });
});

describe('PQ prekey top-ups and the upgrade of classical devices', () => {
  it('a classical device publishes its first last-resort PQ prekey, then one-time ones, within the limits', async () => {
    const alice = await withDevice('pq-upgrade');
    const path = '/devices/1/pq-prekeys';
    const early = await alice.client.post(path, {
      pqPreKeys: [pqPreKeyJson(PqPreKeyRecord.generate(1, alice.keys.identity))],
    });
    expect(early.status).toBe(409);
    const lastResort = PqPreKeyRecord.generate(500, alice.keys.identity, { lastResort: true });
    const set = await alice.client.put('/devices/1/pq-last-resort-prekey', {
      pqLastResortPreKey: pqPreKeyJson(lastResort),
    });
    expect(set.status).toBe(204);
    const batch = (start: number, count: number) =>
      Array.from({ length: count }, (_, i) => pqPreKeyJson(PqPreKeyRecord.generate(start + i, alice.keys.identity)));
    const first = await alice.client.post(path, { pqPreKeys: batch(1, 100) });
    expect(first.body).toEqual({ pqPreKeysRemaining: 100 });
    expect((await alice.client.post(path, { pqPreKeys: batch(1, 1) })).status).toBe(409);
    expect((await alice.client.post(path, { pqPreKeys: batch(101, 101) })).body.error?.code).toBe('validation_failed');
    const foreign = pqPreKeyJson(PqPreKeyRecord.generate(900, IdentityKeyPair.generate()));
    expect((await alice.client.post(path, { pqPreKeys: [foreign] })).body.error?.code).toBe('invalid_key');
    for (let start = 101; start <= 401; start += 100) {
      expect((await alice.client.post(path, { pqPreKeys: batch(start, 100) })).status).toBe(200);
    }
    const over = await alice.client.post(path, { pqPreKeys: batch(501, 1) });
    expect(over.status).toBe(409);
    expect((await alice.client.get('/devices')).body.devices).toMatchObject([
      { postQuantum: true, pqPreKeysRemaining: 500 },
    ]);
  });

  it('lets only the device itself change its PQ keys, and drops them when it is revoked', async () => {
    const alice = await withDevice('pq-own', { pqPreKeys: 2 });
    const phone = new ApiClient(fx.stack.restUrl);
    await phone.post('/auth/login', { email: alice.email, password: alice.password });
    await phone.post('/devices', (await deviceKeys()).body('Phone'));
    const key = pqPreKeyJson(PqPreKeyRecord.generate(77, alice.keys.identity, { lastResort: true }));
    expect((await phone.put('/devices/1/pq-last-resort-prekey', { pqLastResortPreKey: key })).status).toBe(403);
    expect((await phone.post('/devices/1/pq-prekeys', { pqPreKeys: [key] })).status).toBe(403);
    expect((await alice.client.put('/devices/1/pq-last-resort-prekey', { pqLastResortPreKey: key })).status).toBe(204);
    expect((await phone.delete('/devices/1')).status).toBe(200);
    const sql = new pg.Client({ connectionString: fx.schema.url });
    await sql.connect();
    try {
      const left = await sql.query('SELECT count(*)::int AS n FROM one_time_pq_prekeys WHERE user_id = $1', [
        alice.userId,
      ]);
      expect(left.rows[0]?.n).toBe(0);
    } finally {
      await sql.end();
    }
  });
});

/** The claim statement on the Data API driver, as in AWS (its parameter typing is stricter than pg's). */
describe('PQ prekey claims through the Data API', () => {
  const dataApi = stackOnFreshSchema({ env: { RATE_LIMIT_MULTIPLIER: '100', DB_DRIVER: 'data-api' } });
  it('hands out each one-time PQ prekey once, then the last-resort one', () => claimsOneTimeThenLastResort(dataApi));
});

async function claimsOneTimeThenLastResort(on: StackFixture): Promise<void> {
  const alice = await withDevice('pq-claim', { pqPreKeys: 2, preKeys: 1 }, on);
  const bob = await withDevice('pq-claim-bob', {}, on);
  const claims: BundleJson[] = [];
  for (let i = 0; i < 4; i++) {
    const answer = await bob.client.get(`/users/${alice.userId}/devices/1/prekey-bundle`);
    expect(answer.status).toBe(200);
    claims.push(answer.body.bundle as BundleJson);
  }
  expect(claims.map((b) => [b.pqPreKey?.keyId, b.pqPreKey?.lastResort])).toEqual([
    [1, false],
    [2, false],
    [1000, true],
    [1000, true],
  ]);
  expect(claims.map((b) => b.preKey?.keyId ?? null)).toEqual([1, null, null, null]);
  for (const bundle of claims) {
    const parsed = toCrypto(bundle);
    expect(parsed.postQuantum).toBe(true);
    expect(parsed.verifySignature()).toBe(true);
  }
  expect((await alice.client.get('/devices')).body.devices).toMatchObject([{ pqPreKeysRemaining: 0 }]);
}
