/**
 * Trust (Signal-Desktop's `KeyChangeListener` and safety numbers): the identity keys seen per user's devices,
 * `identityChanged` when a known device's key changes (or any device comes or goes for a verified contact),
 * and the safety number over all live devices of both sides.
 */
import { Fingerprint, IdentityKey, ProtocolAddress, type ProtocolStores } from '@ciphertalk/shared/crypto';
import type { PublicDevice } from '@ciphertalk/shared/protocol';
import { fromBase64, toBase64 } from './base64.ts';
import { EngineError } from './errors.ts';
import type { LocalStore } from './local-store.ts';
import { sessionKinds } from './pq-keys.ts';
import type { TrustRecord } from './records.ts';
import type { EngineState } from './state.ts';
import type { SafetyNumberView, TrustView } from './types.ts';

export interface TrustDeps {
  readonly store: LocalStore;
  readonly state: Pick<EngineState, 'trust'>;
  readonly userId: string;
  /** A user's live devices, fresh from the server. */
  readonly devicesOf: (userId: string) => Promise<readonly PublicDevice[]>;
  /** The crypto stores, for the kind of each session (PQXDH or X3DH) the safety-number screen shows. */
  readonly stores: ProtocolStores;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** What the keys a user has now mean, given what was seen before (pure). */
export function nextTrust(stored: TrustRecord | undefined, keys: readonly string[]): TrustRecord | null {
  if (!stored) return { keys: [...keys], verifiedKeys: null, changed: false };
  if (sameList(stored.keys, keys)) return null;
  // A known device with a different key is always a warning; new or removed devices only for a verified contact.
  const knownIds = new Map(stored.keys.map((k) => [k.split(':')[0], k]));
  const keyChanged = keys.some((k) => {
    const before = knownIds.get(k.split(':')[0]);
    return before !== undefined && before !== k;
  });
  const wasVerified = stored.verifiedKeys !== null && sameList(stored.verifiedKeys, stored.keys);
  return { keys: [...keys], verifiedKeys: stored.verifiedKeys, changed: stored.changed || keyChanged || wasVerified };
}

export const trustView = (record: TrustRecord): TrustView => ({
  verified: record.verifiedKeys !== null && sameList(record.verifiedKeys, record.keys),
  identityChanged: record.changed,
});

export class Trust {
  readonly #deps: TrustDeps;

  constructor(deps: TrustDeps) {
    this.#deps = deps;
  }

  async load(): Promise<void> {
    for (const { userId, record } of await this.#deps.store.trust()) this.#show(userId, record);
  }

  /** Records the identity keys a device list shows for a user. */
  async observe(userId: string, devices: readonly PublicDevice[]): Promise<TrustRecord> {
    const keys = devices.map((d) => `${d.deviceId}:${d.identityKey}`).sort();
    const stored = await this.#deps.store.trustOf(userId);
    const record = nextTrust(stored, keys);
    if (record === null) return stored as TrustRecord;
    await this.#save(userId, record);
    return record;
  }

  async safetyNumber(userId: string): Promise<SafetyNumberView> {
    const { fingerprint, record, devices } = await this.#fingerprint(userId);
    const digits = fingerprint.displayString;
    const addresses = devices.map((d) => ProtocolAddress.of(userId, d.deviceId));
    return {
      userId,
      digits,
      groups: digits.match(/\d{5}/g) ?? [],
      qrPayload: toBase64(fingerprint.scannable.serialize()),
      ...trustView(record),
      sessions: await sessionKinds(this.#deps.stores, addresses),
    };
  }

  async compareScanned(userId: string, scannedBase64: string): Promise<boolean> {
    const { fingerprint } = await this.#fingerprint(userId);
    try {
      return fingerprint.scannable.compare(fromBase64(scannedBase64));
    } catch {
      return false;
    }
  }

  async markVerified(userId: string, verified: boolean): Promise<void> {
    const { record } = await this.#fingerprint(userId);
    await this.#save(userId, { keys: record.keys, verifiedKeys: verified ? record.keys : null, changed: false });
  }

  async acknowledgeIdentityChange(userId: string): Promise<void> {
    const stored = await this.#deps.store.trustOf(userId);
    if (stored) await this.#save(userId, { ...stored, changed: false });
  }

  async #save(userId: string, record: TrustRecord): Promise<void> {
    await this.#deps.store.setTrust(userId, record);
    this.#show(userId, record);
  }

  #show(userId: string, record: TrustRecord): void {
    const { state } = this.#deps;
    state.trust.value = { ...state.trust.value, [userId]: trustView(record) };
  }

  async #fingerprint(
    userId: string,
  ): Promise<{ fingerprint: Fingerprint; record: TrustRecord; devices: readonly PublicDevice[] }> {
    const me = this.#deps.userId;
    if (userId === me) throw new EngineError('invalid', 'A safety number is between you and someone else');
    const mine = (await this.#deps.devicesOf(me)).map((d) => d.identityKey);
    const theirs = await this.#deps.devicesOf(userId);
    const record = await this.observe(userId, theirs);
    const utf8 = new TextEncoder();
    const fingerprint = Fingerprint.fromSerializedKeys({
      localId: utf8.encode(me),
      localKey: concatKeys(mine),
      remoteId: utf8.encode(userId),
      remoteKey: concatKeys(theirs.map((d) => d.identityKey)),
    });
    return { fingerprint, record, devices: theirs };
  }
}

/** The sorted concatenation of a side's identity keys: one safety number covers all of a user's devices. */
function concatKeys(keys: readonly string[]): Uint8Array {
  const parts = [...keys].sort().map((k) => IdentityKey.deserialize(fromBase64(k)).serialize());
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
