/**
 * ML-KEM-1024 known answers: NIST's ACVP vectors for FIPS 203 (key generation from d || z, encapsulation with a
 * fixed m, decapsulation, the encapsulation key check), the same files `@noble/post-quantum` tests itself
 * with, run through this library's wrapper (`kem.ts`) and its serialised forms.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CryptoErrorCode,
  initCrypto,
  isCryptoError,
  KEM_CIPHERTEXT_BYTES,
  KEM_PUBLIC_KEY_BYTES,
  KEY_TYPE_ML_KEM_1024,
  KemKeyPair,
  KemPublicKey,
} from '../../src/crypto/index.ts';
import { hex, unhex } from './helpers.ts';
import { ML_KEM_1024_ACVP } from './vectors/ml-kem-1024-acvp.ts';

beforeAll(initCrypto);

interface Vectors {
  keyGen: { tcId: number; d: string; z: string; ek: string; dk: string }[];
  encapsulation: { tcId: number; ek: string; m: string; c: string; k: string }[];
  decapsulation: { tcId: number; dk: string; c: string; k: string }[];
  encapsulationKeyCheck: { tcId: number; ek: string; testPassed: boolean }[];
}

const vectors: Vectors = ML_KEM_1024_ACVP;
const typed = (raw: string) => new Uint8Array([KEY_TYPE_ML_KEM_1024, ...unhex(raw)]);
const lower = (value: string) => value.toLowerCase();

describe('ML-KEM-1024 (ACVP, FIPS 203)', () => {
  it.each(vectors.keyGen)('key generation, test case $tcId', ({ d, z, ek, dk }) => {
    const pair = KemKeyPair.fromSeed(unhex(d + z));
    expect(hex(pair.publicKey.raw())).toBe(lower(ek));
    expect(hex(pair.secretKeyBytes())).toBe(lower(dk));
    expect(hex(KemKeyPair.fromSecretKey(unhex(dk)).publicKey.raw())).toBe(lower(ek));
  });

  it.each(vectors.encapsulation)('encapsulation, test case $tcId', ({ ek, m, c, k }) => {
    const key = KemPublicKey.deserialize(typed(ek));
    const { ciphertext, sharedSecret } = key.encapsulate(unhex(m));
    expect(ciphertext[0]).toBe(KEY_TYPE_ML_KEM_1024);
    expect(hex(ciphertext.subarray(1))).toBe(lower(c));
    expect(hex(sharedSecret)).toBe(lower(k));
  });

  it.each(vectors.decapsulation)('decapsulation (implicit rejection included), test case $tcId', ({ dk, c, k }) => {
    expect(hex(KemKeyPair.fromSecretKey(unhex(dk)).decapsulate(typed(c)))).toBe(lower(k));
  });

  it.each(vectors.encapsulationKeyCheck)('encapsulation key check, test case $tcId', ({ ek, testPassed }) => {
    const parse = () => KemPublicKey.deserialize(typed(ek));
    if (testPassed) expect(parse().raw().length).toBe(KEM_PUBLIC_KEY_BYTES);
    else expect(parse).toThrow(expect.objectContaining({ code: CryptoErrorCode.InvalidKey }));
  });

  it('has both outcomes of the key check among its vectors', () => {
    expect(new Set(vectors.encapsulationKeyCheck.map((v) => v.testPassed))).toEqual(new Set([true, false]));
  });
});

describe('serialised forms', () => {
  it('round-trip a public key and refuse a wrong type byte or length', () => {
    const pair = KemKeyPair.generate();
    const bytes = pair.publicKey.serialize();
    expect(KemPublicKey.deserialize(bytes).raw()).toEqual(pair.publicKey.raw());
    const retyped = bytes.slice();
    retyped[0] = 0x05;
    for (const bad of [retyped, bytes.subarray(0, -1), new Uint8Array([...bytes, 0])]) {
      const error = (() => {
        try {
          KemPublicKey.deserialize(bad);
        } catch (caught) {
          return caught;
        }
      })();
      expect(isCryptoError(error, CryptoErrorCode.InvalidKey)).toBe(true);
    }
  });

  it('decapsulates what was encapsulated, and a tampered ciphertext to another secret', () => {
    const pair = KemKeyPair.generate();
    const { ciphertext, sharedSecret } = pair.publicKey.encapsulate();
    expect(ciphertext.length).toBe(1 + KEM_CIPHERTEXT_BYTES);
    expect(pair.decapsulate(ciphertext)).toEqual(sharedSecret);
    const tampered = ciphertext.slice();
    tampered[500] = (tampered[500] ?? 0) ^ 1;
    expect(pair.decapsulate(tampered)).not.toEqual(sharedSecret);
    const retyped = ciphertext.slice();
    retyped[0] = 0;
    expect(() => pair.decapsulate(retyped)).toThrow(expect.objectContaining({ code: CryptoErrorCode.InvalidMessage }));
  });
});
