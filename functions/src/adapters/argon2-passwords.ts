import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import type { PasswordHasher } from '#ports/passwords.ts';

/**
 * argon2id with OWASP's first recommended setting (m = 19 MiB, t = 2, p = 1): about 50-100 ms per hash on a
 * Lambda with 1 GB. Hashes are PHC strings, so raising the parameters later keeps old hashes verifiable.
 */
export const argon2Options = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function createArgon2Hasher(options: Partial<typeof argon2Options> = {}): PasswordHasher {
  const params = { ...argon2Options, ...options };
  let dummy: Promise<string> | undefined;
  return {
    hash: (password) => argon2.hash(password, params),
    async verify(hash, password) {
      try {
        return await argon2.verify(hash, password);
      } catch {
        return false;
      }
    },
    dummyHash() {
      dummy ??= argon2.hash(randomBytes(32).toString('base64url'), params);
      return dummy;
    },
  };
}
