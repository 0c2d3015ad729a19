/**
 * Wire formats of pairwise messages. Every message starts with a version byte and a type byte, so a
 * receiver can dispatch on the bytes alone and a later version can still read this one.
 *
 *   SignalMessage (type 1):
 *     u8 version | u8 type | ratchet key (32) | u32 counter | u32 previous counter | AEAD ciphertext (n + 16)
 *   PreKeySignalMessage (type 3, libsignal's number):
 *     u8 version | u8 type | u32 registration id | u8 has one-time prekey | [u32 prekey id]
 *     | u32 signed prekey id | base key (32) | identity key (33) | embedded SignalMessage (rest)
 *
 * All integers are big-endian. The AEAD's associated data is the SignalMessage header (everything before the
 * ciphertext) followed by the sender's and the receiver's raw identity keys.
 */
import { ByteReader, ByteWriter, readVersion } from './encoding.ts';
import { CryptoError, CryptoErrorCode } from './errors.ts';
import { IdentityKey, SERIALIZED_IDENTITY_KEY_BYTES, X25519_PUBLIC_KEY_BYTES } from './keys.ts';
import { AEAD_TAG_BYTES } from './ratchet.ts';

/** Version of the pairwise message formats. */
export const MESSAGE_VERSION = 1;

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

export interface PreKeySignalMessage {
  registrationId: number;
  preKeyId: number | undefined;
  signedPreKeyId: number;
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
  baseKey: Uint8Array;
  identityKey: IdentityKey;
  message: Uint8Array;
}): Uint8Array {
  const writer = new ByteWriter(90 + fields.message.length)
    .u8(MESSAGE_VERSION)
    .u8(MessageType.PreKey)
    .u32(fields.registrationId)
    .bool(fields.preKeyId !== undefined);
  if (fields.preKeyId !== undefined) writer.u32(fields.preKeyId);
  return writer
    .u32(fields.signedPreKeyId)
    .fixed(fields.baseKey)
    .fixed(fields.identityKey.serialize())
    .fixed(fields.message)
    .finish();
}

export function decodePreKeySignalMessage(bytes: Uint8Array): PreKeySignalMessage {
  const reader = new ByteReader(bytes);
  readVersion(reader, 'message', MESSAGE_VERSION);
  if (reader.u8() !== MessageType.PreKey) reader.fail('not a PreKeySignalMessage');
  const registrationId = reader.u32();
  const preKeyId = reader.bool() ? reader.u32() : undefined;
  const signedPreKeyId = reader.u32();
  const baseKey = reader.fixed(X25519_PUBLIC_KEY_BYTES);
  let identityKey: IdentityKey;
  try {
    identityKey = IdentityKey.deserialize(reader.fixed(SERIALIZED_IDENTITY_KEY_BYTES));
  } catch (cause) {
    throw new CryptoError(CryptoErrorCode.InvalidMessage, 'invalid identity key in prekey message', { cause });
  }
  const message = decodeSignalMessage(reader.rest());
  return { registrationId, preKeyId, signedPreKeyId, baseKey, identityKey, message };
}

/** The type of a serialised pairwise message, from its first two bytes. */
export function messageType(bytes: Uint8Array): MessageType {
  const reader = new ByteReader(bytes);
  readVersion(reader, 'message', MESSAGE_VERSION);
  const type = reader.u8();
  if (type !== MessageType.Whisper && type !== MessageType.PreKey) reader.fail(`unknown message type ${type}`);
  return type;
}
