import { describe, expect, it } from 'vitest';
import { CryptoErrorCode, Fingerprint, IdentityKeyPair, initCrypto } from '../../src/crypto/index.ts';

await initCrypto();

describe('safety numbers', () => {
  const alice = IdentityKeyPair.generate().publicKey;
  const bob = IdentityKeyPair.generate().publicKey;

  it('shows both people the same 60 digits and their scans match', () => {
    const onAlicesPhone = Fingerprint.compute('alice@example.com', alice, 'bob@example.com', bob);
    const onBobsPhone = Fingerprint.compute('bob@example.com', bob, 'alice@example.com', alice);
    expect(onAlicesPhone.displayString).toMatch(/^\d{60}$/);
    expect(onAlicesPhone.displayString).toBe(onBobsPhone.displayString);
    expect(onAlicesPhone.formatted().split(' ')).toHaveLength(12);
    expect(onAlicesPhone.scannable.compare(onBobsPhone.scannable.serialize())).toBe(true);
    expect(onBobsPhone.scannable.compare(onAlicesPhone.scannable.serialize())).toBe(true);
    // Scanning one's own code is not a match.
    expect(onAlicesPhone.scannable.compare(onAlicesPhone.scannable.serialize())).toBe(false);
  });

  it('changes when an identity key changes (a man in the middle, or a re-install)', () => {
    const mallory = IdentityKeyPair.generate().publicKey;
    const onAlicesPhone = Fingerprint.compute('alice@example.com', alice, 'bob@example.com', mallory);
    const onBobsPhone = Fingerprint.compute('bob@example.com', bob, 'alice@example.com', alice);
    expect(onAlicesPhone.displayString).not.toBe(onBobsPhone.displayString);
    expect(onAlicesPhone.scannable.compare(onBobsPhone.scannable.serialize())).toBe(false);
  });

  it('changes with the stable identifier', () => {
    const a = Fingerprint.compute('alice@example.com', alice, 'bob@example.com', bob);
    const b = Fingerprint.compute('alice@example.org', alice, 'bob@example.com', bob);
    expect(a.displayString).not.toBe(b.displayString);
  });

  it('reports a scannable version mismatch as such, and garbage as invalid', () => {
    const fingerprint = Fingerprint.compute('a', alice, 'b', bob);
    const other = fingerprint.scannable.serialize();
    other[1] = 1;
    expect(() => fingerprint.scannable.compare(other)).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.UnsupportedVersion }),
    );
    expect(() => fingerprint.scannable.compare(new Uint8Array(10))).toThrow(
      expect.objectContaining({ code: CryptoErrorCode.InvalidMessage }),
    );
  });
});
