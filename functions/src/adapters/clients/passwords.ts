import { createArgon2Hasher } from '#adapters/argon2-passwords.ts';
import type { PasswordHasher } from '#ports/passwords.ts';
import { once } from './once.ts';

/** argon2id (a native module, copied into the bundles of the functions that import this). */
export const passwords = once((): PasswordHasher => createArgon2Hasher());
