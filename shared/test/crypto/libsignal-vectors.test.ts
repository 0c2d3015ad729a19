/**
 * Known-answer tests against libsignal's published vectors. Where our KDFs are libsignal's, these pin them:
 * - chain key -> message keys and next chain key: rust/protocol/src/ratchet/keys.rs `test_chain_key_derivation`;
 * - X3DH root/chain keys: rust/protocol/tests/ratchet.rs `test_ratcheting_session_as_{bob,alice}`;
 * - safety numbers: rust/protocol/src/fingerprint.rs `fingerprint_test_v1`, `fingerprint_test_v2`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Fingerprint, initCrypto, ScannableFingerprint } from '../../src/crypto/index.ts';
import { x25519 } from '../../src/crypto/keys.ts';
import { deriveMessageKeys, messageKeySeed, nextChainKey } from '../../src/crypto/ratchet.ts';
import { x3dhInitiator, x3dhResponder } from '../../src/crypto/x3dh.ts';
import { hex, text, unhex } from './helpers.ts';

beforeAll(initCrypto);

/** libsignal's 33-byte public keys start with the 0x05 type byte. */
const raw = (serialized: string) => unhex(serialized).subarray(1);

describe('libsignal chain key vectors (keys.rs)', () => {
  it('derives the message cipher key, MAC key and next chain key', () => {
    const chainKey = unhex('8ab72d6f4cc5ac0d387eaf463378ddb28edd07385b1cb01250c715982e7ad48f');
    const keys = deriveMessageKeys(messageKeySeed(chainKey));
    expect(hex(keys.cipherKey)).toBe('bf51e9d75e0e31031051f82a2491ffc084fa298b7793bd9db620056febf45217');
    expect(hex(keys.macKey)).toBe('c6c77d6a73a354337a56435e34607dfe48e3ace14e77314dc6abc172e7a7030b');
    expect(hex(nextChainKey(chainKey))).toBe('28e8f8fee54b801eef7c5cfb2f17f32c7b334485bbb70fac6ec10342a246d15d');
  });
});

describe('libsignal X3DH vectors (tests/ratchet.rs)', () => {
  const bobIdentityPublic = '05f1f43874f6966956c2dd473f8fa15adeb71d1cb991b2341692324cefb1c5e626';
  const bobIdentityPrivate = '4875cc69ddf8ea0719ec947d61081135868d5fd801f02c0225e516df2156605e';
  const bobSignedPreKeyPublic = '05ac248a8f263be6863576eb0362e28c828f0107a3379d34bab1586bf8c770cd67';
  const bobSignedPreKeyPrivate = '583900131fb727998b7803fe6ac22cc591f342e4e42a8c8d5d78194209b8d253';
  const aliceBasePublic = '05472d1fb1a9862c3af6beaca8920277e2b26f4a79213ec7c906aeb35e03cf8950';
  const aliceBasePrivate = '11ae7c64d1e61cd596b76a0db5012673391cae66edbfcf073b4da80516a47449';
  const aliceIdentityPublic = '05b4a8455660ada65b401007f615e654041746432e3339c6875149bceefcb42b4a';
  const aliceIdentityPrivate = '9040f0d4e09cf38f6dc7c13779c908c015a1da4fa78737a080eb0a6f4f5f8f58';

  it("gives Bob libsignal's sender chain key (no one-time prekey)", () => {
    const keys = x3dhResponder({
      ourIdentity: (theirs) => x25519(unhex(bobIdentityPrivate), theirs),
      ourSignedPreKeyPrivateKey: unhex(bobSignedPreKeyPrivate),
      theirIdentity: raw(aliceIdentityPublic),
      theirBaseKey: raw(aliceBasePublic),
    });
    expect(hex(keys.chainKey)).toBe('9797caca53c989bbe229a40ca7727010eb2604fc14945d77958a0aeda088b44d');
  });

  it("gives Alice libsignal's receiver chain key (no one-time prekey)", () => {
    const keys = x3dhInitiator({
      ourIdentity: (theirs) => x25519(unhex(aliceIdentityPrivate), theirs),
      ourBasePrivateKey: unhex(aliceBasePrivate),
      theirIdentity: raw(bobIdentityPublic),
      theirSignedPreKey: raw(bobSignedPreKeyPublic),
    });
    expect(hex(keys.chainKey)).toBe('ab9be50e5cb22a925446ab90ee5670545f4fd32902459ec274b6ad0ae5d6031a');
  });

  it('agrees between initiator and responder, with and without a one-time prekey', () => {
    // Consistent key pairs, derived from the vectors' private keys.
    const pub = (priv: string) => x25519(unhex(priv), basePoint);
    const basePoint = new Uint8Array(32);
    basePoint[0] = 9;
    const oneTimePrivate = unhex('a1cab48f7c893fafa9880a28c3b4999d28d6329562d27a4ea4e22e9ff1bdd65a');
    for (const withOneTime of [false, true]) {
      const alice = x3dhInitiator({
        ourIdentity: (theirs) => x25519(unhex(aliceIdentityPrivate), theirs),
        ourBasePrivateKey: unhex(aliceBasePrivate),
        theirIdentity: pub(bobIdentityPrivate),
        theirSignedPreKey: pub(bobSignedPreKeyPrivate),
        theirOneTimePreKey: withOneTime ? x25519(oneTimePrivate, basePoint) : undefined,
      });
      const bob = x3dhResponder({
        ourIdentity: (theirs) => x25519(unhex(bobIdentityPrivate), theirs),
        ourSignedPreKeyPrivateKey: unhex(bobSignedPreKeyPrivate),
        ourOneTimePreKeyPrivateKey: withOneTime ? oneTimePrivate : undefined,
        theirIdentity: pub(aliceIdentityPrivate),
        theirBaseKey: pub(aliceBasePrivate),
      });
      expect(hex(alice.rootKey)).toBe(hex(bob.rootKey));
      expect(hex(alice.chainKey)).toBe(hex(bob.chainKey));
    }
  });
});

describe('libsignal safety number vectors (fingerprint.rs)', () => {
  const aliceIdentity = unhex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868');
  const bobIdentity = unhex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b');
  const aliceId = text('+14152222222');
  const bobId = text('+14153333333');
  const display = '300354477692869396892869876765458257569162576843440918079131';
  const aliceHash = '1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df';
  const bobHash = 'd62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d';

  for (const version of [1, 2]) {
    it(`reproduces the displayable and scannable fingerprints (version ${version})`, () => {
      const alice = Fingerprint.fromSerializedKeys({
        localId: aliceId,
        localKey: aliceIdentity,
        remoteId: bobId,
        remoteKey: bobIdentity,
        version,
      });
      const bob = Fingerprint.fromSerializedKeys({
        localId: bobId,
        localKey: bobIdentity,
        remoteId: aliceId,
        remoteKey: aliceIdentity,
        version,
      });
      expect(alice.displayString).toBe(display);
      expect(bob.displayString).toBe(display);
      const v = `0${version}`;
      expect(hex(alice.scannable.serialize())).toBe(`08${v}12220a20${aliceHash}1a220a20${bobHash}`);
      expect(hex(bob.scannable.serialize())).toBe(`08${v}12220a20${bobHash}1a220a20${aliceHash}`);
      expect(alice.scannable.compare(bob.scannable.serialize())).toBe(true);
    });
  }

  it('encodes the scannable payload like libsignal (fingerprint_encodings)', () => {
    const payload = ScannableFingerprint.fromHashes(2, new Uint8Array(32).fill(0x12), new Uint8Array(32).fill(0xba));
    expect(hex(payload.serialize())).toBe(`080212220a20${'12'.repeat(32)}1a220a20${'ba'.repeat(32)}`);
  });
});
