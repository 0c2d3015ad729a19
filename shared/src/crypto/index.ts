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
  type Encapsulation,
  KEM_CIPHERTEXT_BYTES,
  KEM_PARAMETER_SET,
  KEM_PUBLIC_KEY_BYTES,
  KEM_SECRET_KEY_BYTES,
  KEY_TYPE_ML_KEM_1024,
  KemKeyPair,
  KemPublicKey,
  SERIALIZED_KEM_CIPHERTEXT_BYTES,
  SERIALIZED_KEM_PUBLIC_KEY_BYTES,
} from './kem.ts';
export {
  generatePqPreKeys,
  generatePreKeys,
  IdentityKey,
  IdentityKeyPair,
  KeyPair,
  PqPreKeyRecord,
  PreKeyBundle,
  type PreKeyBundleFields,
  PreKeyRecord,
  PublicKey,
  SIGNED_PRE_KEY_MAX_AGE_MS,
  SignedPreKeyRecord,
} from './keys.ts';
export { MESSAGE_VERSION, MessageType, messageType, PQ_PRE_KEY_MESSAGE_VERSION } from './messages.ts';
export {
  type DeviceCiphertext,
  distributeSenderKey,
  encryptForDevices,
  fanOutAddresses,
  type PreKeyDirectory,
  type SessionStarter,
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
export {
  type DecryptResult,
  type ProcessBundleOptions,
  processPreKeyBundle,
  SessionCipher,
  type SessionKind,
} from './session.ts';
export { SessionRecord } from './session-state.ts';
export { initCrypto } from './sodium.ts';
export {
  Direction,
  type IdentityKeyStore,
  InMemoryIdentityKeyStore,
  InMemoryPqPreKeyStore,
  InMemoryPreKeyStore,
  InMemorySenderKeyStore,
  InMemorySessionStore,
  InMemorySignedPreKeyStore,
  inMemoryProtocolStores,
  lastResortUseKey,
  type PqPreKeyStore,
  type PreKeyStore,
  type ProtocolStores,
  type SenderKeyStore,
  type SessionStore,
  type SignedPreKeyStore,
} from './stores.ts';
