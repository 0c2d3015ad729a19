import { z } from 'zod';
import { UserId } from './auth.ts';
import { text } from './text.ts';

/**
 * Devices and the key directory. Keys travel as standard base64 of the crypto library's serialised forms
 * (`@ciphertalk/shared/crypto`): identity key 33 bytes (0x65 + Ed25519), prekeys 33 bytes (0x05 + X25519),
 * signature 64 bytes (Ed25519 over the signed prekey's 33-byte form). PQXDH's ML-KEM-1024 prekeys are 1,569
 * bytes (0x08 + the encapsulation key), each signed like the signed prekey, over its 1,569-byte form. The sizes
 * match the CHECK constraints of migrations 0003 and 0009.
 */
const base64Of = (bytes: number) =>
  z
    .string()
    .max(Math.ceil(bytes / 3) * 4)
    .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'Expected base64')
    .refine((value) => value.length % 4 === 0 && (value.length / 4) * 3 - padding(value) === bytes, {
      message: `Expected base64 of exactly ${bytes} bytes`,
    });
const padding = (value: string) => (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);

export const IdentityKeyB64 = base64Of(33);
export const PublicKeyB64 = base64Of(33);
export const SignatureB64 = base64Of(64);
export const KemPublicKeyB64 = base64Of(1569);
/** Key ids are the library's u32. */
export const KeyId = z.number().int().min(0).max(0xffffffff);
/** Device numbers are per user, from 1, never reused (the library's ProtocolAddress range). */
export const DeviceId = z.coerce.number().int().min(1).max(0x7fffffff);

export const MAX_PREKEYS_PER_UPLOAD = 100;
/** Unclaimed one-time prekeys a device may keep on the server. */
export const MAX_PREKEYS_STORED = 500;
/** Devices a user may have at once. */
export const MAX_DEVICES_PER_USER = 10;

export const SignedPreKey = z.object({ keyId: KeyId, publicKey: PublicKeyB64, signature: SignatureB64 });
export type SignedPreKey = z.infer<typeof SignedPreKey>;
export const OneTimePreKey = z.object({ keyId: KeyId, publicKey: PublicKeyB64 });
export type OneTimePreKey = z.infer<typeof OneTimePreKey>;

/** A signed ML-KEM-1024 prekey of PQXDH: one-time ones and the device's last-resort one have this shape. */
export const SignedPqPreKey = z.object({ keyId: KeyId, publicKey: KemPublicKeyB64, signature: SignatureB64 });
export type SignedPqPreKey = z.infer<typeof SignedPqPreKey>;

const uniqueKeyIds = (keys: readonly { keyId: number }[]) => new Set(keys.map((k) => k.keyId)).size === keys.length;
const PreKeyList = z
  .array(OneTimePreKey)
  .max(MAX_PREKEYS_PER_UPLOAD)
  .refine(uniqueKeyIds, { message: 'Key ids must be unique' });
/** One-time PQ prekeys: the same limits as the classical ones (per upload and stored). */
const PqPreKeyList = z
  .array(SignedPqPreKey)
  .max(MAX_PREKEYS_PER_UPLOAD)
  .refine(uniqueKeyIds, { message: 'Key ids must be unique' });

/** `POST /devices`: registers the calling session's device. */
export const RegisterDeviceRequest = z.object({
  name: text().trim().min(1).max(64),
  registrationId: KeyId,
  identityKey: IdentityKeyB64,
  signedPreKey: SignedPreKey,
  preKeys: PreKeyList,
  /** PQXDH: the last-resort ML-KEM prekey. Devices without one (older clients) get classical sessions. */
  pqLastResortPreKey: SignedPqPreKey.optional(),
  pqPreKeys: PqPreKeyList.optional(),
});
export type RegisterDeviceRequest = z.infer<typeof RegisterDeviceRequest>;

export const Device = z.object({
  deviceId: DeviceId,
  name: text(),
  registrationId: KeyId,
  identityKey: IdentityKeyB64,
  createdAt: z.iso.datetime(),
  lastSeenAt: z.iso.datetime(),
  /** True for the device of the calling session. */
  current: z.boolean(),
  preKeysRemaining: z.number().int().nonnegative(),
  /** True once the device published a last-resort ML-KEM prekey: its new sessions are PQXDH. */
  postQuantum: z.boolean(),
  pqPreKeysRemaining: z.number().int().nonnegative(),
});
export type Device = z.infer<typeof Device>;

export const DeviceResponse = z.object({ device: Device });
export type DeviceResponse = z.infer<typeof DeviceResponse>;
export const DeviceListResponse = z.object({ devices: z.array(Device) });
export type DeviceListResponse = z.infer<typeof DeviceListResponse>;

export const DevicePath = z.object({ deviceId: DeviceId });
export const UserPath = z.object({ userId: UserId });
export const UserDevicePath = z.object({ userId: UserId, deviceId: DeviceId });

/** `POST /devices/{deviceId}/prekeys`: more one-time prekeys, from that device only. */
export const UploadPreKeysRequest = z.object({ preKeys: PreKeyList.min(1) });
export type UploadPreKeysRequest = z.infer<typeof UploadPreKeysRequest>;
export const PreKeyCountResponse = z.object({ preKeysRemaining: z.number().int().nonnegative() });
export type PreKeyCountResponse = z.infer<typeof PreKeyCountResponse>;

/** `POST /devices/{deviceId}/pq-prekeys`: more one-time ML-KEM prekeys, from that device only. */
export const UploadPqPreKeysRequest = z.object({ pqPreKeys: PqPreKeyList.min(1) });
export type UploadPqPreKeysRequest = z.infer<typeof UploadPqPreKeysRequest>;
export const PqPreKeyCountResponse = z.object({ pqPreKeysRemaining: z.number().int().nonnegative() });
export type PqPreKeyCountResponse = z.infer<typeof PqPreKeyCountResponse>;

/** `PUT /devices/{deviceId}/pq-last-resort-prekey`: a new (or the first) last-resort ML-KEM prekey. */
export const SetPqLastResortPreKeyRequest = z.object({ pqLastResortPreKey: SignedPqPreKey });
export type SetPqLastResortPreKeyRequest = z.infer<typeof SetPqLastResortPreKeyRequest>;

/** `PUT /devices/{deviceId}/signed-prekey`: a new signed prekey, from that device only. */
export const RotateSignedPreKeyRequest = z.object({ signedPreKey: SignedPreKey });
export type RotateSignedPreKeyRequest = z.infer<typeof RotateSignedPreKeyRequest>;

/** Another user's device as the directory shows it: what a sender needs to address and verify it. */
export const PublicDevice = z.object({
  deviceId: DeviceId,
  registrationId: KeyId,
  identityKey: IdentityKeyB64,
  /** The device has published an ML-KEM prekey: a bundle of it without one is a downgrade. */
  postQuantum: z.boolean(),
});
export type PublicDevice = z.infer<typeof PublicDevice>;
export const PublicDeviceListResponse = z.object({ userId: UserId, devices: z.array(PublicDevice) });
export type PublicDeviceListResponse = z.infer<typeof PublicDeviceListResponse>;

/** A prekey bundle: claiming it consumes its one-time prekey, which is absent when the device has none left. */
export const PreKeyBundle = z.object({
  userId: UserId,
  deviceId: DeviceId,
  registrationId: KeyId,
  identityKey: IdentityKeyB64,
  signedPreKey: SignedPreKey,
  preKey: OneTimePreKey.nullable(),
  /**
   * PQXDH: a one-time ML-KEM prekey, claimed like `preKey`, or the last-resort one when none is left
   * (`lastResort: true`); null only for a device that never published one.
   */
  pqPreKey: SignedPqPreKey.extend({ lastResort: z.boolean() }).nullable(),
});
export type PreKeyBundle = z.infer<typeof PreKeyBundle>;
export const PreKeyBundleResponse = z.object({ bundle: PreKeyBundle });
export type PreKeyBundleResponse = z.infer<typeof PreKeyBundleResponse>;
export const PreKeyBundlesResponse = z.object({ bundles: z.array(PreKeyBundle) });
export type PreKeyBundlesResponse = z.infer<typeof PreKeyBundlesResponse>;
