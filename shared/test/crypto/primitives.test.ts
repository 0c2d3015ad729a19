import { beforeAll, describe, expect, it } from 'vitest';
import { CryptoErrorCode, initCrypto, isCryptoError } from '../../src/crypto/index.ts';
import { hkdfExpand, hkdfExtract, hkdfSha256, hmacSha256, randomBytes } from '../../src/crypto/sodium.ts';
import { hex, text, unhex } from './helpers.ts';

beforeAll(initCrypto);

// RFC 5869 Appendix A, test cases 1-3 (SHA-256).
const rfc5869 = [
  {
    name: 'A.1 basic',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '000102030405060708090a0b0c',
    info: 'f0f1f2f3f4f5f6f7f8f9',
    length: 42,
    prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'A.2 long inputs',
    ikm: Array.from({ length: 80 }, (_, i) => i.toString(16).padStart(2, '0')).join(''),
    salt: Array.from({ length: 80 }, (_, i) => (0x60 + i).toString(16).padStart(2, '0')).join(''),
    info: Array.from({ length: 80 }, (_, i) => (0xb0 + i).toString(16).padStart(2, '0')).join(''),
    length: 82,
    prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
    okm:
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09' +
      'da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'A.3 empty salt and info',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: undefined,
    info: '',
    length: 42,
    prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

describe('HKDF-SHA256 (RFC 5869 vectors)', () => {
  for (const v of rfc5869) {
    it(`matches test case ${v.name}`, () => {
      const salt = v.salt === undefined ? undefined : unhex(v.salt);
      const prk = hkdfExtract(salt, unhex(v.ikm));
      expect(hex(prk)).toBe(v.prk);
      expect(hex(hkdfExpand(prk, unhex(v.info), v.length))).toBe(v.okm);
      expect(hex(hkdfSha256(unhex(v.ikm), salt, unhex(v.info), v.length))).toBe(v.okm);
    });
  }

  it('treats an empty salt like HashLen zero bytes', () => {
    const ikm = unhex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b');
    expect(hex(hkdfExtract(new Uint8Array(0), ikm))).toBe(hex(hkdfExtract(undefined, ikm)));
  });

  it('rejects an output longer than 255 blocks', () => {
    expect(() => hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1)).toThrow(RangeError);
  });
});

describe('HMAC-SHA256 (RFC 4231)', () => {
  it('matches test case 2 (short key) and test case 6 (131-byte key)', () => {
    expect(hex(hmacSha256(text('Jefe'), text('what do ya want for nothing?')))).toBe(
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
    expect(
      hex(hmacSha256(new Uint8Array(131).fill(0xaa), text('Test Using Larger Than Block-Size Key - Hash Key First'))),
    ).toBe('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
  });
});

describe('randomBytes', () => {
  it('fills the requested length, also beyond one getRandomValues call, with fresh bytes each time', () => {
    const big = randomBytes(200_000);
    expect(big).toHaveLength(200_000);
    // A block of zeros past 65,536 would mean the tail was never filled.
    expect(big.subarray(150_000, 150_032).some((b) => b !== 0)).toBe(true);
    expect(hex(randomBytes(32))).not.toBe(hex(randomBytes(32)));
    expect(randomBytes(0)).toHaveLength(0);
  });
});

describe('errors', () => {
  it('narrows with the type guard, optionally by code', async () => {
    const { CryptoError } = await import('../../src/crypto/errors.ts');
    const error: unknown = new CryptoError(CryptoErrorCode.DuplicateMessage, 'dup');
    expect(isCryptoError(error)).toBe(true);
    expect(isCryptoError(error, CryptoErrorCode.DuplicateMessage)).toBe(true);
    expect(isCryptoError(error, CryptoErrorCode.InvalidMessage)).toBe(false);
    expect(isCryptoError(new Error('x'))).toBe(false);
  });
});
