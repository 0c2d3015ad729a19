import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  createSenderKeyDistributionMessage,
  distributeSenderKey,
  groupDecrypt,
  groupEncrypt,
  InMemorySenderKeyStore,
  initCrypto,
  isCryptoError,
  type ProtocolAddress,
  processSenderKeyDistributionMessage,
  rotateSenderKey,
  SenderKeyRecord,
  SessionCipher,
} from '../../src/crypto/index.ts';
import { type Device, makeDevice, str, text } from './helpers.ts';

beforeAll(initCrypto);

const GROUP = '6a8f1c2e-group-one';

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Members of one group, each holding every other member's sender key (handed over directly). */
async function group(names: string[]) {
  const members = await Promise.all(names.map((name) => makeDevice(name)));
  for (const sender of members) {
    const distribution = await createSenderKeyDistributionMessage(sender.senderKeys, sender.address, GROUP);
    for (const receiver of members) {
      if (receiver !== sender) {
        await processSenderKeyDistributionMessage(receiver.senderKeys, sender.address, distribution);
      }
    }
  }
  return members;
}

const send = (from: Device, message: string) => groupEncrypt(from.senderKeys, from.address, GROUP, text(message));
const receive = async (to: Device, from: ProtocolAddress, bytes: Uint8Array) =>
  str((await groupDecrypt(to.senderKeys, from, bytes)).plaintext);

describe('sender keys', () => {
  it('lets every member read a message encrypted once', async () => {
    const [alice, bob, carol] = (await group(['alice', 'bob', 'carol'])) as [Device, Device, Device];
    const bytes = await send(alice, 'hello group');
    expect(await receive(bob, alice.address, bytes)).toBe('hello group');
    expect(await receive(carol, alice.address, bytes)).toBe('hello group');
  });

  it('rejects replays, and forged or tampered messages before decrypting', async () => {
    const [alice, bob] = (await group(['alice', 'bob'])) as [Device, Device];
    const bytes = await send(alice, 'signed');
    for (let i = 0; i < bytes.length; i++) {
      const tampered = bytes.slice();
      tampered[i] = (tampered[i] ?? 0) ^ 0x80;
      expect(isCryptoError(await errorOf(receive(bob, alice.address, tampered))), `byte ${i}`).toBe(true);
    }
    // A body change with an intact structure is caught by the signature.
    const body = bytes.slice();
    body[body.length - 70] = (body[body.length - 70] ?? 0) ^ 1;
    expect(isCryptoError(await errorOf(receive(bob, alice.address, body)), CryptoErrorCode.InvalidSignature)).toBe(
      true,
    );
    expect(await receive(bob, alice.address, bytes)).toBe('signed');
    expect(isCryptoError(await errorOf(receive(bob, alice.address, bytes)), CryptoErrorCode.DuplicateMessage)).toBe(
      true,
    );
  });

  it('decrypts out of order, each message exactly once (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 12 })
          .chain((n) =>
            fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })),
          ),
        async ([count, order]) => {
          const [alice, bob] = (await group(['alice', 'bob'])) as [Device, Device];
          const sent: Uint8Array[] = [];
          for (let i = 0; i < count; i++) sent.push(await send(alice, `m${i}`));
          for (const i of order) expect(await receive(bob, alice.address, sent[i] as Uint8Array)).toBe(`m${i}`);
          for (const bytes of sent) {
            const error = await errorOf(receive(bob, alice.address, bytes));
            expect(isCryptoError(error, CryptoErrorCode.DuplicateMessage)).toBe(true);
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('locks a removed member out after the others rotate', async () => {
    const members = (await group(['alice', 'bob', 'mallory'])) as [Device, Device, Device];
    const [alice, bob, mallory] = members;
    const before = await send(alice, 'before removal');
    expect(await receive(mallory, alice.address, before)).toBe('before removal');

    // Mallory is removed: Alice and Bob rotate and exchange new keys, not sending them to Mallory.
    for (const sender of [alice, bob]) {
      const distribution = await rotateSenderKey(sender.senderKeys, sender.address, GROUP);
      const other = sender === alice ? bob : alice;
      await processSenderKeyDistributionMessage(other.senderKeys, sender.address, distribution);
    }
    const after = await send(alice, 'after removal');
    expect(await receive(bob, alice.address, after)).toBe('after removal');
    expect(isCryptoError(await errorOf(receive(mallory, alice.address, after)), CryptoErrorCode.NoSenderKeyState)).toBe(
      true,
    );
    const fromBob = await send(bob, 'bob after removal');
    expect(isCryptoError(await errorOf(receive(mallory, bob.address, fromBob)))).toBe(true);
    // Messages sent just before the rotation still decrypt for those who remain.
    expect(await receive(bob, alice.address, before)).toBe('before removal');
  });

  it('after any sequence of removals, members read every message and removed members none (property)', async () => {
    const step = fc.oneof(
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('send' as const), who: fc.nat({ max: 3 }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), who: fc.nat({ max: 3 }) }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 12 }), async (steps) => {
        const everyone = (await group(['a', 'b', 'c', 'd'])) as Device[];
        const members = new Set(everyone);
        let n = 0;
        for (const { kind, who } of steps) {
          const device = everyone[who] as Device;
          if (kind === 'remove') {
            if (!members.delete(device)) continue;
            // Everyone left rotates and hands the new key to the others left.
            for (const sender of members) {
              const distribution = await rotateSenderKey(sender.senderKeys, sender.address, GROUP);
              for (const receiver of members) {
                if (receiver !== sender) {
                  await processSenderKeyDistributionMessage(receiver.senderKeys, sender.address, distribution);
                }
              }
            }
          } else if (members.has(device)) {
            const message = `m${n++}`;
            const bytes = await send(device, message);
            for (const other of everyone) {
              if (other === device) continue;
              if (members.has(other)) expect(await receive(other, device.address, bytes)).toBe(message);
              else expect(isCryptoError(await errorOf(receive(other, device.address, bytes)))).toBe(true);
            }
          }
        }
      }),
      { numRuns: 10 },
    );
  });

  it('distributes a sender key over the pairwise sessions of each member device', async () => {
    const alice = await makeDevice('alice');
    const bobPhone = await makeDevice('bob', 1);
    const bobLaptop = await makeDevice('bob', 2);
    const directory = {
      fetchBundle: async (address: ProtocolAddress) => (address.deviceId === 1 ? bobPhone : bobLaptop).bundle(),
    };
    const envelopes = await distributeSenderKey({
      stores: alice.stores,
      senderKeys: alice.senderKeys,
      sender: alice.address,
      distributionId: GROUP,
      memberDevices: [bobPhone.address, bobLaptop.address],
      directory,
    });
    expect(envelopes.map((e) => e.address.toString())).toEqual(['bob.1', 'bob.2']);
    const groupMessage = await send(alice, 'to all of bob');
    for (const [device, envelope] of [
      [bobPhone, envelopes[0]],
      [bobLaptop, envelopes[1]],
    ] as const) {
      if (envelope === undefined) throw new Error('missing envelope');
      const { plaintext } = await new SessionCipher(device.stores, alice.address).decrypt(envelope.body);
      await processSenderKeyDistributionMessage(device.senderKeys, alice.address, plaintext);
      expect(await receive(device, alice.address, groupMessage)).toBe('to all of bob');
    }
  });

  it('runs concurrent group calls one after another: no reused key, no replay', async () => {
    const [alice, bob] = (await group(['alice', 'bob'])) as [Device, Device];
    const sent = await Promise.all(Array.from({ length: 8 }, (_, i) => send(alice, `g${i}`)));
    const read = await Promise.all(sent.map((bytes) => receive(bob, alice.address, bytes)));
    expect(read).toEqual(sent.map((_, i) => `g${i}`));
    const twice = await send(alice, 'twice');
    const outcomes = await Promise.allSettled([receive(bob, alice.address, twice), receive(bob, alice.address, twice)]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
  });

  it('serialises a sender key record to bytes and back', async () => {
    const store = new InMemorySenderKeyStore();
    const [alice] = (await group(['alice'])) as [Device];
    await createSenderKeyDistributionMessage(store, alice.address, GROUP);
    await groupEncrypt(store, alice.address, GROUP, text('advance'));
    const record = (await store.loadSenderKey(alice.address, GROUP)) as SenderKeyRecord;
    const bytes = record.serialize();
    expect(SenderKeyRecord.deserialize(bytes).serialize()).toEqual(bytes);
    expect(record.current?.index).toBe(1);
  });

  it('cannot encrypt for a group before creating a sender key', async () => {
    const alice = await makeDevice('alice');
    const error = await errorOf(send(alice, 'x'));
    expect(isCryptoError(error, CryptoErrorCode.NoSenderKeyState)).toBe(true);
  });
});
