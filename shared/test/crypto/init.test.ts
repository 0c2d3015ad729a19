import { describe, expect, it } from 'vitest';
import { CryptoErrorCode, IdentityKeyPair, initCrypto } from '../../src/crypto/index.ts';

// Runs in its own module graph (vitest isolates test files), so libsodium is not loaded yet here.
describe('initCrypto', () => {
  it('must be awaited before use, and may be awaited repeatedly', async () => {
    expect(() => IdentityKeyPair.generate()).toThrow(expect.objectContaining({ code: CryptoErrorCode.NotInitialised }));
    await Promise.all([initCrypto(), initCrypto()]);
    await initCrypto();
    expect(IdentityKeyPair.generate().publicKey.serialize()).toHaveLength(33);
  });
});
