/**
 * Sender Keys for groups (libsignal's group_cipher): each member device has, per group ("distribution"), a
 * symmetric chain and an Ed25519 signing key. It hands both to the other members once, inside pairwise
 * sessions (a SenderKeyDistributionMessage), and then encrypts each group message once for everybody.
 * Every message is signed; receivers verify the signature before deriving keys or decrypting.
 *
 * Rotation: when a member leaves or is removed, every remaining member calls {@link rotateSenderKey} and sends
 * the new distribution message to the remaining members only. The removed member knows the old chains but
 * neither the new chain key nor the new signing key, so it can read and forge nothing that follows.
 *
 * KDF as libsignal: message key seed = HMAC-SHA256(ck, 0x01), next ck = HMAC-SHA256(ck, 0x02),
 * HKDF-SHA256(seed, no salt, "WhisperGroup", 48) -> IV (16) || cipher key (32). The body is sealed with
 * ChaCha20-Poly1305 (nonce = IV[0..12], AD = message header) instead of AES-256-CBC.
 *
 *   SenderKeyDistributionMessage: u8 version | u8 type 4 | u16 id length | distribution id (UTF-8)
 *                                 | u32 chain id | u32 iteration | chain key (32) | signing key (32)
 *   SenderKeyMessage:             u8 version | u8 type 5 | u16 id length | distribution id | u32 chain id
 *                                 | u32 iteration | u32 length | AEAD ciphertext | Ed25519 signature (64)
 *                                   over all preceding bytes
 */
import type { ProtocolAddress } from './address.ts';
import { dropOldestSkippedKeys, takeMessageKeySeed } from './chain.ts';
import { ByteReader, ByteWriter, readVersion } from './encoding.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES } from './keys.ts';
import { serialized } from './lock.ts';
import {
  type AeadKeys,
  CHAIN_KEY_BYTES,
  messageKeySeed,
  nextChainKey,
  openWithMessageKeys,
  sealWithMessageKeys,
} from './ratchet.ts';
import { SenderKeyRecord, type SenderKeyState } from './sender-key-record.ts';
import { constantTimeEqual, hkdfSha256, randomBytes, sodium, utf8 } from './sodium.ts';
import type { SenderKeyStore } from './stores.ts';

export const SENDER_KEY_MESSAGE_VERSION = 1;
export const SENDER_KEY_DISTRIBUTION_TYPE = 4;
export const SENDER_KEY_MESSAGE_TYPE = 5;
export const SENDER_KEY_INFO = 'WhisperGroup';
const SENDER_MESSAGE_KEY_BYTES = 48;
const IV_BYTES = 16;

export interface SenderKeyDistribution {
  distributionId: string;
  chainId: number;
  iteration: number;
  chainKey: Uint8Array;
  signingKey: Uint8Array;
}

function writeDistributionId(writer: ByteWriter, distributionId: string): void {
  const bytes = utf8(distributionId);
  if (bytes.length === 0 || bytes.length > 0xffff) throw new RangeError('distribution id must be 1..65535 bytes');
  writer.u16(bytes.length).fixed(bytes);
}

function readDistributionId(reader: ByteReader): string {
  const bytes = reader.fixed(reader.u16());
  try {
    return sodium().to_string(bytes);
  } catch {
    return reader.fail('distribution id is not UTF-8');
  }
}

export function encodeSenderKeyDistribution(d: SenderKeyDistribution): Uint8Array {
  const writer = new ByteWriter(128).u8(SENDER_KEY_MESSAGE_VERSION).u8(SENDER_KEY_DISTRIBUTION_TYPE);
  writeDistributionId(writer, d.distributionId);
  return writer.u32(d.chainId).u32(d.iteration).fixed(d.chainKey).fixed(d.signingKey).finish();
}

export function decodeSenderKeyDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const reader = new ByteReader(bytes);
  readVersion(reader, 'sender key distribution message', SENDER_KEY_MESSAGE_VERSION);
  if (reader.u8() !== SENDER_KEY_DISTRIBUTION_TYPE) reader.fail('not a sender key distribution message');
  const distributionId = readDistributionId(reader);
  const chainId = reader.u32();
  const iteration = reader.u32();
  const chainKey = reader.fixed(CHAIN_KEY_BYTES);
  const signingKey = reader.fixed(ED25519_PUBLIC_KEY_BYTES);
  reader.end();
  return { distributionId, chainId, iteration, chainKey, signingKey };
}

function senderMessageKeys(seed: Uint8Array): AeadKeys {
  const okm = hkdfSha256(seed, undefined, utf8(SENDER_KEY_INFO), SENDER_MESSAGE_KEY_BYTES);
  return { iv: okm.slice(0, IV_BYTES), cipherKey: okm.slice(IV_BYTES) };
}

function newSendingState(): SenderKeyState {
  const signing = sodium().crypto_sign_seed_keypair(randomBytes(ED25519_SEED_BYTES));
  const chainId = new DataView(randomBytes(4).buffer).getUint32(0) >>> 1;
  return {
    chainId,
    index: 0,
    chainKey: randomBytes(CHAIN_KEY_BYTES),
    signingPublicKey: signing.publicKey,
    signingPrivateKey: signing.privateKey,
    skipped: new Map(),
  };
}

function distributionOf(distributionId: string, state: SenderKeyState): Uint8Array {
  return encodeSenderKeyDistribution({
    distributionId,
    chainId: state.chainId,
    iteration: state.index,
    chainKey: state.chainKey,
    signingKey: state.signingPublicKey,
  });
}

/**
 * The distribution message for our own sender key in `distributionId`, creating the key on first use.
 * Send it to each member device over the pairwise session.
 */
export async function createSenderKeyDistributionMessage(
  store: SenderKeyStore,
  sender: ProtocolAddress,
  distributionId: string,
): Promise<Uint8Array> {
  return serialized(store, lockKey(sender, distributionId), async () => {
    const record = (await store.loadSenderKey(sender, distributionId)) ?? SenderKeyRecord.empty();
    let state = record.current;
    if (state?.signingPrivateKey === undefined) {
      state = newSendingState();
      record.add(state);
      await store.storeSenderKey(sender, distributionId, record);
    }
    return distributionOf(distributionId, state);
  });
}

/**
 * Replaces our sender key in `distributionId` by a fresh chain and signing key and returns its distribution
 * message. Call it when a member leaves or is removed, and send the result to the remaining members only.
 */
export async function rotateSenderKey(
  store: SenderKeyStore,
  sender: ProtocolAddress,
  distributionId: string,
): Promise<Uint8Array> {
  return serialized(store, lockKey(sender, distributionId), async () => {
    const record = SenderKeyRecord.empty();
    const state = newSendingState();
    record.add(state);
    await store.storeSenderKey(sender, distributionId, record);
    return distributionOf(distributionId, state);
  });
}

/** Stores the sender key that `sender` distributed to us (it arrived over our pairwise session with `sender`). */
export async function processSenderKeyDistributionMessage(
  store: SenderKeyStore,
  sender: ProtocolAddress,
  bytes: Uint8Array,
): Promise<void> {
  const d = decodeSenderKeyDistribution(bytes);
  await serialized(store, lockKey(sender, d.distributionId), async () => {
    const record = (await store.loadSenderKey(sender, d.distributionId)) ?? SenderKeyRecord.empty();
    const existing = record.stateFor(d.chainId);
    // Re-delivery of a chain we already follow: keep our position, or old messages would decrypt again.
    if (existing !== undefined && constantTimeEqual(existing.signingPublicKey, d.signingKey)) return;
    record.add({
      chainId: d.chainId,
      index: d.iteration,
      chainKey: d.chainKey,
      signingPublicKey: d.signingKey,
      signingPrivateKey: undefined,
      skipped: new Map(),
    });
    await store.storeSenderKey(sender, d.distributionId, record);
  });
}

/** Encrypts and signs `plaintext` for every member of `distributionId` holding our sender key. */
export async function groupEncrypt(
  store: SenderKeyStore,
  sender: ProtocolAddress,
  distributionId: string,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  return serialized(store, lockKey(sender, distributionId), () =>
    encryptLocked(store, sender, distributionId, plaintext),
  );
}

async function encryptLocked(
  store: SenderKeyStore,
  sender: ProtocolAddress,
  distributionId: string,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const record = await store.loadSenderKey(sender, distributionId);
  const state = record?.current;
  if (record === undefined || state?.signingPrivateKey === undefined) {
    throw new CryptoError(CryptoErrorCode.NoSenderKeyState, `no sending sender key for ${distributionId}`);
  }
  const writer = new ByteWriter(96 + plaintext.length).u8(SENDER_KEY_MESSAGE_VERSION).u8(SENDER_KEY_MESSAGE_TYPE);
  writeDistributionId(writer, distributionId);
  writer.u32(state.chainId).u32(state.index);
  const header = writer.finish();
  const ciphertext = sealWithMessageKeys(senderMessageKeys(messageKeySeed(state.chainKey)), plaintext, header);
  const signed = new ByteWriter(header.length + 4 + ciphertext.length + ED25519_SIGNATURE_BYTES)
    .fixed(header)
    .bytes(ciphertext)
    .finish();
  const signature = sodium().crypto_sign_detached(signed, state.signingPrivateKey);
  state.chainKey = nextChainKey(state.chainKey);
  state.index += 1;
  await store.storeSenderKey(sender, distributionId, record);
  const out = new Uint8Array(signed.length + signature.length);
  out.set(signed);
  out.set(signature, signed.length);
  return out;
}

export interface GroupDecryptResult {
  distributionId: string;
  plaintext: Uint8Array;
}

/** Verifies and decrypts a group message from `sender`. */
export async function groupDecrypt(
  store: SenderKeyStore,
  sender: ProtocolAddress,
  bytes: Uint8Array,
): Promise<GroupDecryptResult> {
  const reader = new ByteReader(bytes);
  readVersion(reader, 'sender key message', SENDER_KEY_MESSAGE_VERSION);
  if (reader.u8() !== SENDER_KEY_MESSAGE_TYPE) reader.fail('not a sender key message');
  const distributionId = readDistributionId(reader);
  const chainId = reader.u32();
  const iteration = reader.u32();
  const headerLength = reader.offset;
  const ciphertext = reader.bytes();
  const signedLength = reader.offset;
  const signature = reader.fixed(ED25519_SIGNATURE_BYTES);
  reader.end();

  return serialized(store, lockKey(sender, distributionId), async () => {
    const record = await store.loadSenderKey(sender, distributionId);
    const state = record?.stateFor(chainId);
    if (record === undefined || state === undefined) {
      throw new CryptoError(CryptoErrorCode.NoSenderKeyState, `no sender key ${chainId} of ${sender.toString()}`);
    }
    if (!sodium().crypto_sign_verify_detached(signature, bytes.subarray(0, signedLength), state.signingPublicKey)) {
      throw new CryptoError(CryptoErrorCode.InvalidSignature, 'sender key message signature does not verify');
    }
    const seed = takeMessageKeySeed(state, iteration);
    dropOldestSkippedKeys([state]);
    const plaintext = openWithMessageKeys(senderMessageKeys(seed), ciphertext, bytes.subarray(0, headerLength));
    await store.storeSenderKey(sender, distributionId, record);
    return { distributionId, plaintext };
  });
}

function lockKey(sender: ProtocolAddress, distributionId: string): string {
  return `${sender.toString()}::${distributionId}`;
}
