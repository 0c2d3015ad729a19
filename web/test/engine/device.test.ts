/** The device against the in-memory store: keys kept before registration, prekey top-up, a lost device. */
import { initCrypto } from '@ciphertalk/shared/crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Device, PREKEY_BATCH } from '../../src/engine/device.ts';
import { EngineError } from '../../src/engine/errors.ts';
import { memoryStore } from '../../src/engine/local-store.ts';
import { fakeApi } from './stages.ts';

beforeAll(() => initCrypto());

const me = (deviceId: number | null) => ({
  user: { id: 'u1', email: 'a@example.com', displayName: 'A', createdAt: '2026-01-01T00:00:00.000Z' },
  session: { id: '00000000-0000-4000-8000-000000000001', deviceId },
});

describe('Device', () => {
  it('keeps its keys before registering, so a failed registration is retried with the same identity', async () => {
    const store = memoryStore();
    let fail = true;
    const registered: { identityKey: string; preKeys: unknown[] }[] = [];
    const api = fakeApi({
      'GET /me': () => me(null) as never,
      'POST /devices': ({ body }) => {
        registered.push(body);
        if (fail) throw new EngineError('unavailable', 'Try again', { status: 503 });
        return { device: { deviceId: 7 } } as never;
      },
    });
    const device = new Device({ api, store, log: () => undefined });
    await expect(device.ensure()).rejects.toMatchObject({ code: 'unavailable' });
    expect((await store.device())?.deviceId).toBeNull();
    fail = false;
    const ready = await new Device({ api, store, log: () => undefined }).ensure();
    expect(ready.deviceId).toBe(7);
    expect(registered[1]?.identityKey).toBe(registered[0]?.identityKey);
    expect(registered[1]?.preKeys).toHaveLength(PREKEY_BATCH);
    expect((await store.device())?.deviceId).toBe(7);
  });

  it('uploads more one-time prekeys when the server runs low, with fresh ids', async () => {
    const store = memoryStore();
    const uploads: number[][] = [];
    let remaining = 10;
    const api = fakeApi({
      'GET /me': () => me(null) as never,
      'POST /devices': () => ({ device: { deviceId: 3 } }) as never,
      'GET /devices': () => ({ devices: [{ deviceId: 3, current: true, preKeysRemaining: remaining }] }) as never,
      'POST /devices/{deviceId}/prekeys': ({ body }) => {
        uploads.push(body.preKeys.map((p) => p.keyId));
        return { preKeysRemaining: remaining + body.preKeys.length } as never;
      },
    });
    const device = new Device({ api, store, log: () => undefined });
    await device.ensure();
    await device.topUpPreKeys();
    remaining = 90;
    await device.topUpPreKeys();
    expect(uploads).toHaveLength(1);
    expect(uploads[0]?.[0]).toBe(PREKEY_BATCH + 1);
    expect((await store.device())?.nextPreKeyId).toBe(2 * PREKEY_BATCH + 1);
  });

  it('a session whose device keys are not in this browser revokes that device', async () => {
    const revoked: unknown[] = [];
    const api = fakeApi({
      'GET /me': () => me(5) as never,
      'DELETE /devices/{deviceId}': ({ path }) => {
        revoked.push(path.deviceId);
        return { revokedSessions: 1 } as never;
      },
    });
    await expect(new Device({ api, store: memoryStore(), log: () => undefined }).ensure()).rejects.toMatchObject({
      code: 'device_lost',
    });
    expect(revoked).toEqual([5]);
  });
});
