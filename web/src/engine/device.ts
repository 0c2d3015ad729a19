/**
 * This browser's device (Signal-Desktop's `AccountManager`): one tab at a time per user (a Web Lock), the
 * identity key and prekeys generated and kept locally before registration, registration with the server,
 * one-time prekey top-up and signed prekey rotation; PQXDH's ML-KEM prekeys through `pq-keys.ts`.
 */
import {
  generatePreKeys,
  IdentityKeyPair,
  SignedPreKeyRecord,
  type SignedPreKeyStore,
} from '@ciphertalk/shared/crypto';
import type { ApiClient } from './api-client.ts';
import { toBase64 } from './base64.ts';
import { EngineError } from './errors.ts';
import type { LocalStore } from './local-store.ts';
import { maintainPqPreKeys, pqRegistration } from './pq-keys.ts';
import type { LocalDevice, RegisteredDevice } from './records.ts';

export const PREKEY_BATCH = 100;
export const PREKEY_LOW_WATER = 25;

interface LockManagerLike {
  request(name: string, options: { ifAvailable: boolean }, callback: (lock: unknown) => Promise<void>): Promise<void>;
}

/**
 * One tab at a time runs the engine for a user: two would race on the same ratchet states in IndexedDB.
 * (Web Locks where the browser has them; the lock is held until the returned release is called.)
 */
export async function holdDeviceLock(userId: string): Promise<() => void> {
  const locks = (globalThis.navigator as { locks?: LockManagerLike } | undefined)?.locks;
  if (!locks) return () => undefined;
  return new Promise<() => void>((acquired, refused) => {
    void locks.request(`ciphertalk-device-${userId}`, { ifAvailable: true }, (lock) => {
      if (lock === null) {
        refused(new EngineError('other_tab', 'CipherTalk is already open in another tab of this browser'));
        return Promise.resolve();
      }
      return new Promise<void>((release) => acquired(release));
    });
  });
}

export interface DeviceDeps {
  readonly api: ApiClient;
  readonly store: LocalStore;
  readonly deviceName?: string;
  readonly log: (event: string, detail?: Record<string, unknown>) => void;
}

const publicPreKeys = (preKeys: ReturnType<typeof generatePreKeys>) =>
  preKeys.map((p) => ({ keyId: p.id, publicKey: toBase64(p.keyPair.publicKey.serialize()) }));

const publicSignedPreKey = (signed: SignedPreKeyRecord) => ({
  keyId: signed.id,
  publicKey: toBase64(signed.keyPair.publicKey.serialize()),
  signature: toBase64(signed.signature),
});

export class Device {
  readonly #deps: DeviceDeps;
  #device: RegisteredDevice | null = null;

  constructor(deps: DeviceDeps) {
    this.#deps = deps;
  }

  get current(): RegisteredDevice {
    if (!this.#device) throw new EngineError('not_ready', 'The device is not set up');
    return this.#device;
  }

  get identity(): IdentityKeyPair {
    return IdentityKeyPair.deserialize(this.current.identity);
  }

  /** This browser's device: keys from the local store, registered with the server on first use. */
  async ensure(): Promise<RegisteredDevice> {
    const { api, store } = this.#deps;
    const me = await api.call('GET /me');
    let local = await store.device();
    const sessionDevice = me.session.deviceId;
    if (sessionDevice !== null) {
      if (local?.deviceId === sessionDevice) {
        this.#device = { ...local, deviceId: sessionDevice };
        return this.#device;
      }
      // The session has a device whose keys are not here: it is useless; revoke it (this ends the session).
      await this.#revoke(sessionDevice);
      throw new EngineError('device_lost', "This browser's keys are gone; log in again to set up a new device");
    }
    if (local?.deviceId != null) {
      // Keys of a device from an earlier login: that device cannot be used by this session. Start afresh.
      await this.#revoke(local.deviceId);
      await store.reset();
      local = undefined;
    }
    const identity = local ? IdentityKeyPair.deserialize(local.identity) : IdentityKeyPair.generate();
    const signed = SignedPreKeyRecord.generate(1, identity);
    const preKeys = generatePreKeys(1, PREKEY_BATCH);
    const unregistered: LocalDevice = local ?? {
      deviceId: null,
      identity: identity.serialize(),
      registrationId: 1 + Math.floor(Math.random() * 16380),
      nextPreKeyId: PREKEY_BATCH + 1,
      signedPreKeyId: 1,
    };
    // Keys first, registration second: a failed registration is retried with the same keys on the next start.
    await store.saveDevice(unregistered, { signed, preKeys });
    const pq = await pqRegistration(store, identity);
    const answer = await api.call('POST /devices', {
      body: {
        name: this.#deps.deviceName ?? defaultDeviceName(),
        registrationId: unregistered.registrationId,
        identityKey: toBase64(identity.publicKey.serialize()),
        signedPreKey: publicSignedPreKey(signed),
        preKeys: publicPreKeys(preKeys),
        ...pq,
      },
    });
    this.#device = { ...unregistered, deviceId: answer.device.deviceId, nextPreKeyId: PREKEY_BATCH + 1 };
    await store.saveDevice(this.#device);
    this.#deps.log('device.registered', { deviceId: answer.device.deviceId });
    return this.#device;
  }

  /** A signed prekey older than a week is replaced; the old one stays (messages to it may still arrive). */
  async rotateSignedPreKeyIfStale(signedPreKeys: SignedPreKeyStore): Promise<void> {
    const device = this.current;
    const current = await signedPreKeys.loadSignedPreKey(device.signedPreKeyId);
    if (current && !current.isStale()) return;
    const next = SignedPreKeyRecord.generate(device.signedPreKeyId + 1, this.identity);
    await signedPreKeys.storeSignedPreKey(next.id, next);
    await this.#deps.api.call('PUT /devices/{deviceId}/signed-prekey', {
      path: { deviceId: device.deviceId },
      body: { signedPreKey: publicSignedPreKey(next) },
    });
    this.#device = { ...device, signedPreKeyId: next.id };
    await this.#deps.store.saveDevice(this.#device);
    this.#deps.log('signed_prekey.rotated', { keyId: next.id });
  }

  /**
   * Uploads another batch of one-time prekeys when the server has fewer than `PREKEY_LOW_WATER` left, and keeps
   * the ML-KEM prekeys published (`maintainPqPreKeys`).
   */
  async topUpPreKeys(): Promise<void> {
    const { api, store, log } = this.#deps;
    const { devices } = await api.call('GET /devices');
    const current = devices.find((d) => d.current);
    if (current) {
      const stores = store.cryptoStores(this.identity, this.current.registrationId);
      await maintainPqPreKeys(api, store, stores, this.identity, current).catch((error) =>
        log('pq_prekeys.maintenance_failed', { error: String(error) }),
      );
    }
    if (!current || current.preKeysRemaining >= PREKEY_LOW_WATER) return;
    const start = this.current.nextPreKeyId;
    const preKeys = generatePreKeys(start, PREKEY_BATCH);
    this.#device = { ...this.current, nextPreKeyId: start + PREKEY_BATCH };
    await this.#deps.store.saveDevice(this.#device, { preKeys });
    await this.#deps.api.call('POST /devices/{deviceId}/prekeys', {
      path: { deviceId: this.#device.deviceId },
      body: { preKeys: publicPreKeys(preKeys) },
    });
    this.#deps.log('prekeys.uploaded', { count: PREKEY_BATCH });
  }

  /** Revokes this device on the server (logout): nobody encrypts for it any more. */
  async retire(): Promise<void> {
    if (this.#device) await this.#revoke(this.#device.deviceId);
  }

  #revoke(deviceId: number): Promise<unknown> {
    return this.#deps.api.call('DELETE /devices/{deviceId}', { path: { deviceId } }).catch(() => undefined);
  }
}

function defaultDeviceName(): string {
  const agent = globalThis.navigator?.userAgent ?? '';
  const browser = /Firefox\//.test(agent)
    ? 'Firefox'
    : /Edg\//.test(agent)
      ? 'Edge'
      : /Chrome\//.test(agent)
        ? 'Chrome'
        : /Safari\//.test(agent)
          ? 'Safari'
          : 'Browser';
  return `${browser} (web)`.slice(0, 64);
}
