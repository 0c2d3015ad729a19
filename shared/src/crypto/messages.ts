/**
 * Wire formats of pairwise messages. Every message starts with a version byte and a type byte, so a
 * receiver can dispatch on the bytes alone and a later version can still read this one.
 *
 *   SignalMessage (type 1):
 *     u8 version | u8 type | ratchet key (32) | u32 counter | u32 previous counter | AEAD ciphertext (n + 16)
 *   PreKeySignalMessage (type 3, libsignal's number):
 *     u8 version | u8 type | u32 registration id | u8 has one-time prekey | [u32 prekey id]
 *     | u32 signed prekey id | base key (32) | identity key (33) | embedded SignalMessage (rest)
 *   PQXDH PreKeySignalMessage (version 2, type 3): as version 1, with after the signed prekey id
 *     | u32 PQ prekey id | ML-KEM ciphertext (1 + 1,568)
 *   (the embedded SignalMessage stays version 1: the ratchet is the same for both kinds of session)
 *
 * All integers are big-endian. The AEAD's associated data is the SignalMessage header (everything before the
 * ciphertext) followed by the sender's and the receiver's raw identity keys.
 */
import { ByteReader, ByteWriter, readVersion } from './encoding.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { SERIALIZED_KEM_CIPHERTEXT_BYTES } from './kem.ts';
import { IdentityKey, SERIALIZED_IDENTITY_KEY_BYTES, X25519_PUBLIC_KEY_BYTES } from './keys.ts';
import { AEAD_TAG_BYTES } from './ratchet.ts';

/** Version of the pairwise message formats. */
export const MESSAGE_VERSION = 1;
/** Version of the PreKeySignalMessage that completes a PQXDH session (carries the KEM ciphertext). */
export const PQ_PRE_KEY_MESSAGE_VERSION = 2;

export enum MessageType {
  Whisper = 1,
  PreKey = 3,
}

export const SIGNAL_MESSAGE_HEADER_BYTES = 2 + X25519_PUBLIC_KEY_BYTES + 4 + 4;

export interface SignalMessage {
  ratchetKey: Uint8Array;
  counter: number;
  previousCounter: number;
  /** The header bytes as sent: authenticated as associated data. */
  header: Uint8Array;
  ciphertext: Uint8Array;
}

/** The PQXDH part of a version 2 PreKeySignalMessage. */
export interface PqPreKeyUse {
  pqPreKeyId: number;
  /** Serialised ML-KEM ciphertext. */
  kemCiphertext: Uint8Array;
}

export interface PreKeySignalMessage {
  registrationId: number;
  preKeyId: number | undefined;
  signedPreKeyId: number;
  /** Present in PQXDH prekey messages (version 2). */
  pq: PqPreKeyUse | undefined;
  baseKey: Uint8Array;
  identityKey: IdentityKey;
  message: SignalMessage;
}

export function encodeSignalMessageHeader(
  ratchetKey: Uint8Array,
  counter: number,
  previousCounter: number,
): Uint8Array {
  return new ByteWriter(SIGNAL_MESSAGE_HEADER_BYTES)
    .u8(MESSAGE_VERSION)
    .u8(MessageType.Whisper)
    .fixed(ratchetKey)
    .u32(counter)
    .u32(previousCounter)
    .finish();
}

export function decodeSignalMessage(bytes: Uint8Array): SignalMessage {
  const reader = new ByteReader(bytes);
  readVersion(reader, 'message', MESSAGE_VERSION);
  if (reader.u8() !== MessageType.Whisper) reader.fail('not a SignalMessage');
  const ratchetKey = reader.fixed(X25519_PUBLIC_KEY_BYTES);
  const counter = reader.u32();
  const previousCounter = reader.u32();
  const header = bytes.subarray(0, reader.offset);
  if (reader.remaining < AEAD_TAG_BYTES) reader.fail('ciphertext too short');
  return { ratchetKey, counter, previousCounter, header, ciphertext: bytes.subarray(reader.offset) };
}

export function encodePreKeySignalMessage(fields: {
  registrationId: number;
  preKeyId: number | undefined;
  signedPreKeyId: number;
  pq: PqPreKeyUse | undefined;
  baseKey: Uint8Array;
  identityKey: IdentityKey;
  message: Uint8Array;
}): Uint8Array {
  const pq = fields.pq;
  const writer = new ByteWriter(90 + (pq === undefined ? 0 : 4 + pq.kemCiphertext.length) + fields.message.length)
    .u8(pq === undefined ? MESSAGE_VERSION : PQ_PRE_KEY_MESSAGE_VERSION)
    .u8(MessageType.PreKey)
    .u32(fields.registrationId)
    .bool(fields.preKeyId !== undefined);
  if (fields.preKeyId !== undefined) writer.u32(fields.preKeyId);
  writer.u32(fields.signedPreKeyId);
  if (pq !== undefined) writer.u32(pq.pqPreKeyId).fixed(pq.kemCiphertext);
  return writer.fixed(fields.baseKey).fixed(fields.identityKey.serialize()).fixed(fields.message).finish();
}

export function decodePreKeySignalMessage(bytes: Uint8Array): PreKeySignalMessage {
  const reader = new ByteReader(bytes);
  const version = readVersion(reader, 'message', PQ_PRE_KEY_MESSAGE_VERSION);
  if (reader.u8() !== MessageType.PreKey) reader.fail('not a PreKeySignalMessage');
  const registrationId = reader.u32();
  const preKeyId = reader.bool() ? reader.u32() : undefined;
  const signedPreKeyId = reader.u32();
  const pq =
    version === PQ_PRE_KEY_MESSAGE_VERSION
      ? { pqPreKeyId: reader.u32(), kemCiphertext: reader.fixed(SERIALIZED_KEM_CIPHERTEXT_BYTES) }
      : undefined;
  const baseKey = reader.fixed(X25519_PUBLIC_KEY_BYTES);
  let identityKey: IdentityKey;
  try {
    identityKey = IdentityKey.deserialize(reader.fixed(SERIALIZED_IDENTITY_KEY_BYTES));
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.InvalidMessage, 'invalid identity key in prekey message', { cause });
  }
  const message = decodeSignalMessage(reader.rest());
  return { registrationId, preKeyId, signedPreKeyId, pq, baseKey, identityKey, message };
}

/** The type of a serialised pairwise message, from its first two bytes. */
export function messageType(bytes: Uint8Array): MessageType {
  const reader = new ByteReader(bytes);
  const version = readVersion(reader, 'message', PQ_PRE_KEY_MESSAGE_VERSION);
  const type = reader.u8();
  if (type !== MessageType.Whisper && type !== MessageType.PreKey) reader.fail(`unknown message type ${type}`);
  if (version === PQ_PRE_KEY_MESSAGE_VERSION && type !== MessageType.PreKey)
    reader.fail('version 2 is a prekey message');
  return type;
}
