/**
 * Format stability: bytes written by version 1 of this library (a session record and two messages, captured
 * once) must stay readable by every later version. If a change breaks this test, it broke stored sessions and
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

describe('version 1 formats', () => {
  it('decrypt with a stored version 1 session record, including a skipped key', async () => {
    const alice = ProtocolAddress.of('alice', 1);
    const stores = inMemoryProtocolStores(IdentityKeyPair.deserialize(unhex(BOB_IDENTITY_V1)), 2);
    const sessions = new InMemorySessionStore();
    sessions.restoreRawSession(alice, unhex(RECORD_V1));
    const bob = new SessionCipher({ ...stores, sessions }, alice);
    expect(str((await bob.decrypt(unhex(MESSAGE_N_PLUS_1))).plaintext)).toBe('skipped then read');
    expect(str((await bob.decrypt(unhex(MESSAGE_N))).plaintext)).toBe('stored by version 1');
    const replay = await bob.decrypt(unhex(MESSAGE_N)).catch((e: unknown) => e);
    expect(isCryptoError(replay, CryptoErrorCode.DuplicateMessage)).toBe(true);
  });
});
