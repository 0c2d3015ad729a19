import { z } from 'zod';
import { UserId } from './auth.ts';
import { text } from './text.ts';

/**
 * Devices and the key directory. Keys travel as standard base64 of the crypto library's serialised forms
 * (`@ciphertalk/shared/crypto`): identity key 33 bytes (0x65 + Ed25519), prekeys 33 bytes (0x05 + X25519),
 * signature 64 bytes (Ed25519 over the signed prekey's 33-byte form).
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

const uniqueKeyIds = (keys: readonly { keyId: number }[]) => new Set(keys.map((k) => k.keyId)).size === keys.length;
const PreKeyList = z
  .array(OneTimePreKey)
  .max(MAX_PREKEYS_PER_UPLOAD)
  .refine(uniqueKeyIds, { message: 'Key ids must be unique' });

/** `POST /devices`: registers the calling session's device. */
export const RegisterDeviceRequest = z.object({
  name: text().trim().min(1).max(64),
  registrationId: KeyId,
  identityKey: IdentityKeyB64,
  signedPreKey: SignedPreKey,
  preKeys: PreKeyList,
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

/** `PUT /devices/{deviceId}/signed-prekey`: a new signed prekey, from that device only. */
export const RotateSignedPreKeyRequest = z.object({ signedPreKey: SignedPreKey });
export type RotateSignedPreKeyRequest = z.infer<typeof RotateSignedPreKeyRequest>;

/** Another user's device as the directory shows it: what a sender needs to address and verify it. */
export const PublicDevice = z.object({ deviceId: DeviceId, registrationId: KeyId, identityKey: IdentityKeyB64 });
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
});
export type PreKeyBundle = z.infer<typeof PreKeyBundle>;
export const PreKeyBundleResponse = z.object({ bundle: PreKeyBundle });
export type PreKeyBundleResponse = z.infer<typeof PreKeyBundleResponse>;
export const PreKeyBundlesResponse = z.object({ bundles: z.array(PreKeyBundle) });
export type PreKeyBundlesResponse = z.infer<typeof PreKeyBundlesResponse>;
