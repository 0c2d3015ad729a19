import type { DeviceResponse } from '@ciphertalk/shared/protocol';
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
  setPqLastResortPreKey,
  uploadPqPreKeys,
  uploadPreKeys,
} from '#domain/devices.ts';
import { json, route } from '#lib/http.ts';
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
  'POST /devices': route('POST /devices', async (request) => {
    const device = await registerDevice(
      await accountDeps(),
      principalOf(request.event),
      request.body,
      requestMeta(request),
    );
    return json(201, { device } satisfies DeviceResponse);
  }),

  'GET /devices': route('GET /devices', async (request) =>
    json(200, { devices: await listDevices(await accountDeps(), principalOf(request.event)) }),
  ),

  'DELETE /devices/{deviceId}': route('DELETE /devices/{deviceId}', async (request) => {
    const deps = await accountDeps();
    return json(200, await revokeDevice(deps, principalOf(request.event), request.path.deviceId, requestMeta(request)));
  }),

  'POST /devices/{deviceId}/prekeys': route('POST /devices/{deviceId}/prekeys', async (request) => {
    const deps = await accountDeps();
    return json(
      200,
      await uploadPreKeys(deps, principalOf(request.event), request.path.deviceId, request.body.preKeys),
    );
  }),

  'PUT /devices/{deviceId}/signed-prekey': route('PUT /devices/{deviceId}/signed-prekey', async (request) => {
    const deps = await accountDeps();
    await rotateSignedPreKey(deps, principalOf(request.event), request.path.deviceId, request.body.signedPreKey);
    return json(204, undefined);
  }),

  'POST /devices/{deviceId}/pq-prekeys': route('POST /devices/{deviceId}/pq-prekeys', async (request) => {
    const deps = await accountDeps();
    return json(
      200,
      await uploadPqPreKeys(deps, principalOf(request.event), request.path.deviceId, request.body.pqPreKeys),
    );
  }),

  'PUT /devices/{deviceId}/pq-last-resort-prekey': route(
    'PUT /devices/{deviceId}/pq-last-resort-prekey',
    async (request) => {
      const { deviceId } = request.path;
      const key = request.body.pqLastResortPreKey;
      await setPqLastResortPreKey(await accountDeps(), principalOf(request.event), deviceId, key);
      return json(204, undefined);
    },
  ),

  'GET /users/{userId}/devices': route('GET /users/{userId}/devices', async (request) => {
    principalOf(request.event);
    const { userId } = request.path;
    return json(200, { userId, devices: await publicDevices(await accountDeps(), userId) });
  }),

  'GET /users/{userId}/prekey-bundles': route('GET /users/{userId}/prekey-bundles', async (request) => {
    const deps = await accountDeps();
    return json(200, { bundles: await claimBundles(deps, principalOf(request.event), request.path.userId) });
  }),

  'GET /users/{userId}/devices/{deviceId}/prekey-bundle': route(
    'GET /users/{userId}/devices/{deviceId}/prekey-bundle',
    async (request) => {
      const { userId, deviceId } = request.path;
      const bundle = await claimBundle(await accountDeps(), principalOf(request.event), userId, deviceId);
      return json(200, { bundle });
    },
  ),
});
