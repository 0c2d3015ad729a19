/**
 * CipherTalk's end-to-end crypto library. Runtime-neutral: Uint8Array in and out, no platform globals.
 * `await initCrypto()` once before anything else. Design, deviations from Signal and wire formats: README.md.
 */
export { ProtocolAddress } from './address.ts';
export {
  ATTACHMENT_CHUNK_BYTES,
  ATTACHMENT_DIGEST_BYTES,
  ATTACHMENT_KEY_BYTES,
  ATTACHMENT_VERSION,
  AttachmentEncryptor,
  type ByteSource,
  decryptAttachment,
  encryptAttachment,
  generateAttachmentKey,
} from './attachments.ts';
export { MAX_FORWARD_JUMPS, MAX_MESSAGE_KEYS } from './chain.ts';
export { CryptoError, CryptoErrorCode, isCryptoError } from './errors.ts';
export {
  FINGERPRINT_ITERATIONS,
  Fingerprint,
  fingerprintHash,
  SCANNABLE_FINGERPRINT_VERSION,
  ScannableFingerprint,
} from './fingerprint.ts';
export {
  generatePreKeys,
  IdentityKey,
  IdentityKeyPair,
  KeyPair,
  PreKeyBundle,
  type PreKeyBundleFields,
  PreKeyRecord,
  PublicKey,
  SIGNED_PRE_KEY_MAX_AGE_MS,
  SignedPreKeyRecord,
} from './keys.ts';
export { MESSAGE_VERSION, MessageType, messageType } from './messages.ts';
export {
  type DeviceCiphertext,
  distributeSenderKey,
  encryptForDevices,
  fanOutAddresses,
  type PreKeyDirectory,
} from './multi-device.ts';
export { SenderKeyRecord } from './sender-key-record.ts';
export {
  createSenderKeyDistributionMessage,
  type GroupDecryptResult,
  groupDecrypt,
  groupEncrypt,
  processSenderKeyDistributionMessage,
  rotateSenderKey,
} from './sender-keys.ts';
export { type DecryptResult, processPreKeyBundle, SessionCipher } from './session.ts';
export { SessionRecord } from './session-state.ts';
export { initCrypto } from './sodium.ts';
export {
  Direction,
  type IdentityKeyStore,
  InMemoryIdentityKeyStore,
  InMemoryPreKeyStore,
  InMemorySenderKeyStore,
  InMemorySessionStore,
  InMemorySignedPreKeyStore,
  inMemoryProtocolStores,
  type PreKeyStore,
  type ProtocolStores,
  type SenderKeyStore,
  type SessionStore,
  type SignedPreKeyStore,
} from './stores.ts';
