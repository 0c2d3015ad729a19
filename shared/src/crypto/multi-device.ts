/**
 * Multi-device fan-out: a message to a user is encrypted once per device of theirs and once per other device
 * of our own (so our other devices show what we sent), each over its own pairwise session. Devices without a
 * session get one from the key directory's prekey bundle first.
 */
import type { ProtocolAddress } from './address.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import type { PreKeyBundle } from './keys.ts';
import { createSenderKeyDistributionMessage } from './sender-keys.ts';
import { processPreKeyBundle, SessionCipher } from './session.ts';
import type { ProtocolStores, SenderKeyStore } from './stores.ts';

/** The key directory as the crypto code sees it. */
export interface PreKeyDirectory {
  /** A bundle for `address`, consuming one of its one-time prekeys if any are left. */
  fetchBundle(address: ProtocolAddress): Promise<PreKeyBundle>;
}

export interface DeviceCiphertext {
  address: ProtocolAddress;
  body: Uint8Array;
}

/** The devices a message goes to: all of theirs and all of ours except the sending device, no duplicates. */
export function fanOutAddresses(
  sender: ProtocolAddress,
  recipientDevices: readonly ProtocolAddress[],
  ownDevices: readonly ProtocolAddress[],
): ProtocolAddress[] {
  const seen = new Set<string>([sender.toString()]);
  const out: ProtocolAddress[] = [];
  for (const address of [...recipientDevices, ...ownDevices]) {
    const key = address.toString();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(address);
  }
  return out;
}

/** How a session starts from a fetched bundle: `processPreKeyBundle`, or a caller's wrapper around it. */
export type SessionStarter = (address: ProtocolAddress, bundle: PreKeyBundle) => Promise<void>;

/**
 * Encrypts `plaintext` for each of `recipientDevices` and each of `ownDevices` other than `sender`. Without a
 * `directory`, every device must already have a session ({@link CryptoErrorCode.NoSession} otherwise); with
 * one, a missing session starts from the device's bundle through `startSession` (by default
 * `processPreKeyBundle`; a client passes its PQXDH downgrade check here).
 */
export async function encryptForDevices(params: {
  stores: ProtocolStores;
  sender: ProtocolAddress;
  recipientDevices: readonly ProtocolAddress[];
  ownDevices?: readonly ProtocolAddress[];
  plaintext: Uint8Array;
  directory?: PreKeyDirectory;
  startSession?: SessionStarter;
}): Promise<DeviceCiphertext[]> {
  const start: SessionStarter =
    params.startSession ?? ((address, bundle) => processPreKeyBundle(params.stores, address, bundle));
  const out: DeviceCiphertext[] = [];
  for (const address of fanOutAddresses(params.sender, params.recipientDevices, params.ownDevices ?? [])) {
    const cipher = new SessionCipher(params.stores, address);
    if (!(await cipher.hasSession())) {
      if (params.directory === undefined) {
        throw new CryptoError(CryptoErrorCode.NoSession, `no session with ${address.toString()} and no directory`);
      }
      await start(address, await params.directory.fetchBundle(address));
    }
    out.push({ address, body: await cipher.encrypt(params.plaintext) });
  }
  return out;
}

/**
 * Our sender key for `distributionId`, wrapped for each member device in its pairwise session: what a device
 * sends on joining a group, and (with a freshly rotated key) after a member left.
 */
export async function distributeSenderKey(params: {
  stores: ProtocolStores;
  senderKeys: SenderKeyStore;
  sender: ProtocolAddress;
  distributionId: string;
  memberDevices: readonly ProtocolAddress[];
  directory?: PreKeyDirectory;
  /** A distribution message to send instead of the current one (the result of `rotateSenderKey`). */
  distribution?: Uint8Array;
}): Promise<DeviceCiphertext[]> {
  const distribution =
    params.distribution ??
    (await createSenderKeyDistributionMessage(params.senderKeys, params.sender, params.distributionId));
  return encryptForDevices({
    stores: params.stores,
    sender: params.sender,
    recipientDevices: params.memberDevices,
    plaintext: distribution,
    directory: params.directory,
  });
}
