import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  generatePreKeys,
  IdentityKey,
  IdentityKeyPair,
  initCrypto,
  KeyPair,
  PreKeyRecord,
  PublicKey,
  SIGNED_PRE_KEY_MAX_AGE_MS,
  SignedPreKeyRecord,
} from '../../src/crypto/index.ts';
import { text } from './helpers.ts';

beforeAll(initCrypto);

describe('keys', () => {
  it('round-trips an identity key pair and keeps signing with the same key', () => {
    const identity = IdentityKeyPair.generate();
    const copy = IdentityKeyPair.deserialize(identity.serialize());
    expect(copy.publicKey.equals(identity.publicKey)).toBe(true);
    const signature = copy.sign(text('message'));
    expect(identity.publicKey.verify(text('message'), signature)).toBe(true);
    expect(identity.publicKey.verify(text('massage'), signature)).toBe(false);
  });

  it('agrees on the same X25519 secret from the Ed25519 identity and an X25519 key', () => {
    const identity = IdentityKeyPair.generate();
    const ephemeral = KeyPair.generate();
    expect(identity.agree(ephemeral.publicKey.raw())).toEqual(ephemeral.agreeRaw(identity.publicKey.x25519()));
  });

  it('serialises public keys with a type byte and rejects the wrong type or length', () => {
    const key = KeyPair.generate().publicKey;
    const bytes = key.serialize();
    expect(bytes[0]).toBe(0x05);
    expect(PublicKey.deserialize(bytes).equals(key)).toBe(true);
    const identityBytes = IdentityKeyPair.generate().publicKey.serialize();
    expect(identityBytes[0]).toBe(0x65);
    expect(() => PublicKey.deserialize(identityBytes)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidKey }),
    );
    expect(() => IdentityKey.deserialize(bytes)).toThrow(expect.objectContaining({ code: CryptoErrorCode.InvalidKey }));
    expect(() => PublicKey.deserialize(bytes.subarray(1))).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidKey }),
    );
  });

  it('rejects an agreement with a low-order point', () => {
    const zero = PublicKey.fromRaw(new Uint8Array(32));
    expect(() => KeyPair.generate().agree(zero)).toThrow(expect.objectContaining({ code: CryptoErrorCode.InvalidKey }));
  });

  it('round-trips one-time and signed prekeys', () => {
    const identity = IdentityKeyPair.generate();
    const [preKey] = generatePreKeys(7, 1) as [PreKeyRecord];
    const preKeyCopy = PreKeyRecord.deserialize(preKey.serialize());
    expect(preKeyCopy.id).toBe(7);
    expect(preKeyCopy.keyPair.publicKey.equals(preKey.keyPair.publicKey)).toBe(true);

    const signed = SignedPreKeyRecord.generate(3, identity, 1_700_000_000_123);
    const signedCopy = SignedPreKeyRecord.deserialize(signed.serialize());
    expect(signedCopy.timestamp).toBe(1_700_000_000_123);
    expect(identity.publicKey.verify(signedCopy.keyPair.publicKey.serialize(), signedCopy.signature)).toBe(true);
  });

  it('tells when a signed prekey is due for rotation', () => {
    const signed = SignedPreKeyRecord.generate(1, IdentityKeyPair.generate(), 1_000);
    expect(signed.isStale(1_000 + SIGNED_PRE_KEY_MAX_AGE_MS - 1)).toBe(false);
    expect(signed.isStale(1_000 + SIGNED_PRE_KEY_MAX_AGE_MS)).toBe(true);
  });

  it('refuses key records written by a newer version', () => {
    const bytes = IdentityKeyPair.generate().serialize();
    bytes[0] = 2;
    expect(() => IdentityKeyPair.deserialize(bytes)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.UnsupportedVersion }),
    );
  });
});
