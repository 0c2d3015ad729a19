/**
 * Format stability: bytes written by version 1 of this library (a session record and two messages, captured
 * once), and by version 2 (a PQXDH session record), must stay readable by every later version. If a change breaks this test, it broke stored sessions and
 * messages in flight: add a new format version next to version 1 instead.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  IdentityKeyPair,
  InMemorySessionStore,
  initCrypto,
  inMemoryProtocolStores,
  isCryptoError,
  ProtocolAddress,
  SessionCipher,
} from '../../src/crypto/index.ts';
import { str, unhex } from './helpers.ts';

beforeAll(initCrypto);

/** Bob's session with alice.1 after one exchange. */
const RECORD_V1 = [
  '01018b1108aa21d3b5ccfe8c2710f12f5d75ddded1b79b733b219e5d506d2589f57b71fe31f3605aba5023fe20968c5e',
  'f352d16bc268e114087612c7262d00bd2021000000020000000145e323822e4c61628e4cd7ad9c7934b4fe28b79b66da',
  '1b98e8e2c9aa9214418bf2faf1957cb5bb789cda448a3adbfbfd4a0e98cc7fa8556537dfa025f63b191492b9fdd45e9d',
  '8357f7c1498014e07a3d1fb88bd3990e4dd535ba961938e2bc43648b1d4a41853272d94943ae0bd5c0992105b2fd9e1c',
  '144a3457a3b4f44b139600000001000000006edb87d8fbea5cd01962dce33c66cfacf07b319367ad0027e448b83e5156',
  'a122000001e35dc89ee24e13ac1719ac7e65530dc14f2ca6e04c3cd13a0e2cecb275769b2c01e9d62894b6daff677fe9',
  'd680366d3f26332338e5b2cd98e5f50aadc6f2c1f4c6000000010000000000',
].join('');
/** Alice's next two messages: counter n ('stored by version 1') and n + 1 ('skipped then read'). */
const MESSAGE_N = [
  '0101955e0e1842bf08a0a6a2b7e5c401c8c8a802ac9adda2f2d0768446c4106d6c3900000000000000017782ee1e5d1d',
  '9d88dd0335212315f418a781eb05eae27b4e6309683c3366a23724de5e',
].join('');
const MESSAGE_N_PLUS_1 = [
  '0101955e0e1842bf08a0a6a2b7e5c401c8c8a802ac9adda2f2d0768446c4106d6c390000000100000001db0941a3553b',
  '972e5bb866f18098b4f9de46e5d9811f2dea909fc9afcfc6b4acc5',
].join('');
const BOB_IDENTITY_V1 = ['0145a90ec0cfb633a83bfa029cfe494a4c5f339171c7758dd792b4135574436a00'].join('');

/** Bob's cipher with alice.1 on a captured record: his identity (hex seed record) and registration id. */
function restored(record: string, identity: string, registrationId: number): SessionCipher {
  const alice = ProtocolAddress.of('alice', 1);
  const stores = inMemoryProtocolStores(IdentityKeyPair.deserialize(unhex(identity)), registrationId);
  const sessions = new InMemorySessionStore();
  sessions.restoreRawSession(alice, unhex(record));
  return new SessionCipher({ ...stores, sessions }, alice);
}

/** Opens message n + 1 (skipped) then n, and refuses n again as a duplicate. */
async function readBoth(bob: SessionCipher, n: string, nPlus1: string, nText: string): Promise<void> {
  expect(str((await bob.decrypt(unhex(nPlus1))).plaintext)).toBe('skipped then read');
  expect(str((await bob.decrypt(unhex(n))).plaintext)).toBe(nText);
  const replay = await bob.decrypt(unhex(n)).catch((e: unknown) => e);
  expect(isCryptoError(replay, CryptoErrorCode.DuplicateMessage)).toBe(true);
}

describe('version 1 formats', () => {
  it('decrypt with a stored version 1 session record, including a skipped key', async () => {
    const bob = restored(RECORD_V1, BOB_IDENTITY_V1, 2);
    await readBoth(bob, MESSAGE_N, MESSAGE_N_PLUS_1, 'stored by version 1');
  });

  it('reads the version 1 record as a classical session', async () => {
    expect(await restored(RECORD_V1, BOB_IDENTITY_V1, 2).sessionKind()).toBe('x3dh');
  });
});

/** Version 2: Bob's PQXDH session with alice.1 after one exchange (the record format that marks it post-quantum). */
const RECORD_V2 = [
  '0201b607b41e82dc0cda0d2699a28314dc3b1cb2ddbe746c353212363c76915f2a070bd02cb6e07e823209228c5e0e52',
  '9b417dda9debfc125529f68bfa35ec8a2cca000000020000000182eadcba36c09cb0b4a908d43b6b37168e32697507ed',
  'fc4ed752aceb816e5908f7a67d852ef4093c9a941b859b39408456c35ff2769df8b2a77e95e3ae4a4657fb851769459b',
  'c599c27737f021d76ece5c0867f4290468541a93808859e867b10e256f966699df84d3e0cacb6dd663fa5beddeaab7b1',
  '9d413af6a9d16d3ee33b00000001000000004cf95ad179a7f8180346535614cbb23d87fce4389974033750a2dde70ea0',
  '812200000119a2070b60ea534250bb3b03353a4add909e5d5f8ae4249c7092f7926d6f3065015af029f9d7708d8ae892',
  'b7a8a489b9873879f645814887a09c8a419681f8e61d0000000100000000010000',
].join('');
const MESSAGE_V2_N = [
  '0101f15fbb0eae6eed930f3a9b2cb2cc38238b0cde3a4ec6adb9cac34f69a33bf5460000000000000001bace966a6744',
  '11400c204a6c6803b294e846ce1573bbad32869817c0774d926ce34991',
].join('');
const MESSAGE_V2_N_PLUS_1 = [
  '0101f15fbb0eae6eed930f3a9b2cb2cc38238b0cde3a4ec6adb9cac34f69a33bf54600000001000000018a0448fc9b7a',
  'e0108a9a8c0784a99ab141745812e0aaca9d037ce5ad6daf3f65ba',
].join('');
const BOB_IDENTITY_V2 = '01d6dfd73b977574a14c007fd9b4431d3e8515104848d98918b213df5f1016cbc6';

describe('version 2 formats (PQXDH)', () => {
  it('decrypt with a stored version 2 session record, which says the session is PQXDH', async () => {
    const bob = restored(RECORD_V2, BOB_IDENTITY_V2, 2);
    expect(await bob.sessionKind()).toBe('pqxdh');
    await readBoth(bob, MESSAGE_V2_N, MESSAGE_V2_N_PLUS_1, 'stored by version 2');
  });
});
