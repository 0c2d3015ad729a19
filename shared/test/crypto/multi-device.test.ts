import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  encryptForDevices,
  fanOutAddresses,
  initCrypto,
  isCryptoError,
  type PreKeyBundle,
  ProtocolAddress,
  SessionCipher,
} from '../../src/crypto/index.ts';
import { type Device, makeDevice, str, text } from './helpers.ts';

beforeAll(initCrypto);

describe('multi-device', () => {
  it('lists every recipient device and our other devices, never the sender, without duplicates', () => {
    const me = ProtocolAddress.of('alice', 1);
    const result = fanOutAddresses(
      me,
      [ProtocolAddress.of('bob', 1), ProtocolAddress.of('bob', 2), ProtocolAddress.of('bob', 1)],
      [me, ProtocolAddress.of('alice', 2)],
    );
    expect(result.map(String)).toEqual(['bob.1', 'bob.2', 'alice.2']);
  });

  it("encrypts one message for each of the recipient's devices and the sender's other devices", async () => {
    const alicePhone = await makeDevice('alice', 1);
    const aliceLaptop = await makeDevice('alice', 2);
    const bobPhone = await makeDevice('bob', 1);
    const bobTablet = await makeDevice('bob', 7);
    const devices = new Map<string, Device>(
      [aliceLaptop, bobPhone, bobTablet].map((d) => [d.address.toString(), d] as const),
    );
    const fetched: string[] = [];
    const directory = {
      fetchBundle: async (address: ProtocolAddress): Promise<PreKeyBundle> => {
        fetched.push(address.toString());
        return (devices.get(address.toString()) as Device).bundle();
      },
    };
    const send = (message: string) =>
      encryptForDevices({
        stores: alicePhone.stores,
        sender: alicePhone.address,
        recipientDevices: [bobPhone.address, bobTablet.address],
        ownDevices: [alicePhone.address, aliceLaptop.address],
        plaintext: text(message),
        directory,
      });

    for (const message of ['first', 'second']) {
      const envelopes = await send(message);
      expect(envelopes.map((e) => e.address.toString())).toEqual(['bob.1', 'bob.7', 'alice.2']);
      for (const envelope of envelopes) {
        const device = devices.get(envelope.address.toString()) as Device;
        const { plaintext } = await new SessionCipher(device.stores, alicePhone.address).decrypt(envelope.body);
        expect(str(plaintext)).toBe(message);
      }
    }
    // Bundles are fetched once per device; the second message reuses the sessions.
    expect(fetched).toEqual(['bob.1', 'bob.7', 'alice.2']);
    // The bodies differ per device: each is sealed under its own session.
    const [a, b] = await send('third');
    expect(a?.body).not.toEqual(b?.body);
  });

  it('refuses a device without a session when there is no directory', async () => {
    const alice = await makeDevice('alice');
    const bob = await makeDevice('bob');
    const error = await encryptForDevices({
      stores: alice.stores,
      sender: alice.address,
      recipientDevices: [bob.address],
      plaintext: text('x'),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isCryptoError(error, CryptoErrorCode.NoSession)).toBe(true);
  });
});
