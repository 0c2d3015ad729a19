/** Password hashing (argon2id in production). Hashes are opaque strings that carry their parameters. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** False for a wrong password or an unreadable hash; never throws for either. */
  verify(hash: string, password: string): Promise<boolean>;
  /** A hash of a random password with the current parameters: verifying against it costs what a real check costs. */
  dummyHash(): Promise<string>;
}
