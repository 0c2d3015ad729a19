/**
 * Typed errors of the crypto library. Callers branch on `code`, never on the message text.
 */
export enum CryptoErrorCode {
  /** The peer's identity key differs from the one we trust for that address. */
  UntrustedIdentity = 'UNTRUSTED_IDENTITY',
  /** The message was already decrypted once (replay, or a duplicate delivery). */
  DuplicateMessage = 'DUPLICATE_MESSAGE',
  /** A signature (signed prekey, sender-key message) does not verify. */
  InvalidSignature = 'INVALID_SIGNATURE',
  /** Malformed bytes, failed authentication, or a message that fits no session state. */
  InvalidMessage = 'INVALID_MESSAGE',
  /** The message is further ahead in its chain than we are willing to skip. */
  TooManySkippedMessages = 'TOO_MANY_SKIPPED_MESSAGES',
  /** Bytes of a key or a stored record that cannot be parsed. */
  InvalidKey = 'INVALID_KEY',
  /** A wire or storage format version newer than this library understands. */
  UnsupportedVersion = 'UNSUPPORTED_VERSION',
  /** No session with that address (encrypt before set-up, or a plain message without a session). */
  NoSession = 'NO_SESSION',
  /** A prekey or signed prekey id that the store does not hold (used up, or rotated away). */
  InvalidKeyId = 'INVALID_KEY_ID',
  /** No sender-key state for that sender, distribution and chain (e.g. a removed member after rotation). */
  NoSenderKeyState = 'NO_SENDER_KEY_STATE',
  /**
   * A prekey bundle without an ML-KEM prekey for a device known to have one (an earlier PQXDH session with
   * it, or the caller's own knowledge): refused rather than silently falling back to classical X3DH.
   */
  PostQuantumDowngrade = 'POST_QUANTUM_DOWNGRADE',
  /** `initCrypto()` was not awaited before use. */
  NotInitialised = 'NOT_INITIALISED',
}

export class CryptoError extends Error {
  override readonly name = 'CryptoError';
  readonly code: CryptoErrorCode;

  constructor(code: CryptoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True when `error` is a {@link CryptoError}, optionally of the given code. */
export function isCryptoError(error: unknown, code?: CryptoErrorCode): error is CryptoError {
  return error instanceof CryptoError && (code === undefined || error.code === code);
}
