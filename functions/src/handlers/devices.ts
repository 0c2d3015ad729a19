import {
  DevicePath,
  type DeviceResponse,
  RegisterDeviceRequest,
  RotateSignedPreKeyRequest,
  UploadPreKeysRequest,
  UserDevicePath,
  UserPath,
} from '@ciphertalk/shared/protocol';
import { bestEffortRealtime } from '#adapters/best-effort.ts';
import { auditLog } from '#adapters/clients/audit-log.ts';
import { db } from '#adapters/clients/db.ts';
import { rateLimiter } from '#adapters/clients/rate-limiter.ts';
import { realtime } from '#adapters/clients/realtime.ts';
import { config } from '#config';
import {
  claimBundle,
  claimBundles,
  type DeviceDeps,
  listDevices,
  publicDevices,
  registerDevice,
  revokeDevice,
  rotateSignedPreKey,
  uploadPreKeys,
} from '#domain/devices.ts';
import { httpHandler, json } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { requestMeta } from '#lib/request-meta.ts';
import { routes } from '#lib/router.ts';
import { systemClock } from '#ports/clock.ts';

/** Devices and keys: no password hashing and no token signing here. */
const accountDeps = async (): Promise<DeviceDeps> => ({
  db: db(),
  clock: systemClock,
  audit: auditLog(),
  limiter: rateLimiter(),
  limitScale: config.rateLimitMultiplier,
  realtime: bestEffortRealtime(realtime()),
});

/** `/devices*` (the caller's devices and their keys) and the key directory `/users/{userId}/...`. */
export const handler = routes({
  'POST /devices': httpHandler({ body: RegisterDeviceRequest }, async (request) => {
    const device = await registerDevice(
      await accountDeps(),
      principalOf(request.event),
      request.body,
      requestMeta(request),
    );
    return json(201, { device } satisfies DeviceResponse);
  }),

  'GET /devices': httpHandler({}, async (request) =>
    json(200, { devices: await listDevices(await accountDeps(), principalOf(request.event)) }),
  ),

  'DELETE /devices/{deviceId}': httpHandler({ path: DevicePath }, async (request) => {
    const deps = await accountDeps();
    return json(200, await revokeDevice(deps, principalOf(request.event), request.path.deviceId, requestMeta(request)));
  }),

  'POST /devices/{deviceId}/prekeys': httpHandler({ path: DevicePath, body: UploadPreKeysRequest }, async (request) => {
    const deps = await accountDeps();
    return json(
      200,
      await uploadPreKeys(deps, principalOf(request.event), request.path.deviceId, request.body.preKeys),
    );
  }),

  'PUT /devices/{deviceId}/signed-prekey': httpHandler(
    { path: DevicePath, body: RotateSignedPreKeyRequest },
    async (request) => {
      const deps = await accountDeps();
      await rotateSignedPreKey(deps, principalOf(request.event), request.path.deviceId, request.body.signedPreKey);
      return json(204, undefined);
    },
  ),

  'GET /users/{userId}/devices': httpHandler({ path: UserPath }, async (request) => {
    principalOf(request.event);
    const { userId } = request.path;
    return json(200, { userId, devices: await publicDevices(await accountDeps(), userId) });
  }),

  'GET /users/{userId}/prekey-bundles': httpHandler({ path: UserPath }, async (request) => {
    const deps = await accountDeps();
    return json(200, { bundles: await claimBundles(deps, principalOf(request.event), request.path.userId) });
  }),

  'GET /users/{userId}/devices/{deviceId}/prekey-bundle': httpHandler({ path: UserDevicePath }, async (request) => {
    const { userId, deviceId } = request.path;
    const bundle = await claimBundle(await accountDeps(), principalOf(request.event), userId, deviceId);
    return json(200, { bundle });
  }),
});
