/**
 * Storage ports, after libsignal's abstract stores. The crypto code only talks to these interfaces: the
 * browser implements them over IndexedDB, tests use the in-memory versions below. Records cross the port as
 * objects; implementations persist `record.serialize()` and return `Record.deserialize(bytes)`, so a loaded
 * record is always a private copy that the caller may change.
 */
import type { ProtocolAddress } from './address.ts';
import type { IdentityKey, IdentityKeyPair } from './keys.ts';
import { PqPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from './keys.ts';
import { SenderKeyRecord } from './sender-key-record.ts';
import { SessionRecord } from './session-state.ts';

export enum Direction {
  Sending = 'sending',
  Receiving = 'receiving',
}

export interface IdentityKeyStore {
  getIdentityKeyPair(): Promise<IdentityKeyPair>;
  getLocalRegistrationId(): Promise<number>;
  /** Stores `key` as the identity of `address`; resolves true when it replaced a different key. */
  saveIdentity(address: ProtocolAddress, key: IdentityKey): Promise<boolean>;
  /** Whether `key` may be used for `address`. Trust on first use: unknown addresses are trusted. */
  isTrustedIdentity(address: ProtocolAddress, key: IdentityKey, direction: Direction): Promise<boolean>;
  getIdentity(address: ProtocolAddress): Promise<IdentityKey | undefined>;
}

export interface PreKeyStore {
  loadPreKey(id: number): Promise<PreKeyRecord | undefined>;
  storePreKey(id: number, record: PreKeyRecord): Promise<void>;
  removePreKey(id: number): Promise<void>;
}

export interface SignedPreKeyStore {
  loadSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined>;
  storeSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void>;
  removeSignedPreKey(id: number): Promise<void>;
}

/** ML-KEM prekeys of PQXDH (libsignal's KyberPreKeyStore): one-time ones and the last-resort one. */
export interface PqPreKeyStore {
  loadPqPreKey(id: number): Promise<PqPreKeyRecord | undefined>;
  storePqPreKey(id: number, record: PqPreKeyRecord): Promise<void>;
  /**
   * Called once a prekey message using the key decrypted, before its session is stored: removes a one-time key;
   * for the last-resort one (which stays) remembers the signed prekey id and the initiator's base key, and
   * resolves false when that pair was seen before (a replayed first message), true otherwise.
   */
  markPqPreKeyUsed(id: number, signedPreKeyId: number, baseKey: Uint8Array): Promise<boolean>;
}

/** The key under which a store remembers one use of a last-resort PQ prekey (libsignal keeps the same triple). */
export function lastResortUseKey(id: number, signedPreKeyId: number, baseKey: Uint8Array): string {
  let hex = '';
  for (const byte of baseKey) hex += byte.toString(16).padStart(2, '0');
  return `${id}:${signedPreKeyId}:${hex}`;
}

export interface SessionStore {
  loadSession(address: ProtocolAddress): Promise<SessionRecord | undefined>;
  storeSession(address: ProtocolAddress, record: SessionRecord): Promise<void>;
}

export interface SenderKeyStore {
  loadSenderKey(sender: ProtocolAddress, distributionId: string): Promise<SenderKeyRecord | undefined>;
  storeSenderKey(sender: ProtocolAddress, distributionId: string, record: SenderKeyRecord): Promise<void>;
}

/** Everything one device needs for pairwise sessions. */
export interface ProtocolStores {
  identities: IdentityKeyStore;
  preKeys: PreKeyStore;
  signedPreKeys: SignedPreKeyStore;
  pqPreKeys: PqPreKeyStore;
  sessions: SessionStore;
}

export class InMemoryIdentityKeyStore implements IdentityKeyStore {
  readonly #identity: IdentityKeyPair;
  readonly #registrationId: number;
  /** Identity keys are immutable, so the map can hold the objects themselves. */
  readonly #known = new Map<string, IdentityKey>();

  constructor(identity: IdentityKeyPair, registrationId: number) {
    this.#identity = identity;
    this.#registrationId = registrationId;
  }

  async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return this.#identity;
  }

  async getLocalRegistrationId(): Promise<number> {
    return this.#registrationId;
  }

  async saveIdentity(address: ProtocolAddress, key: IdentityKey): Promise<boolean> {
    const previous = await this.getIdentity(address);
    this.#known.set(address.toString(), key);
    return previous !== undefined && !previous.equals(key);
  }

  async isTrustedIdentity(address: ProtocolAddress, key: IdentityKey, _direction: Direction): Promise<boolean> {
    const known = await this.getIdentity(address);
    return known === undefined || known.equals(key);
  }

  async getIdentity(address: ProtocolAddress): Promise<IdentityKey | undefined> {
    return this.#known.get(address.toString());
  }
}

export class InMemoryPreKeyStore implements PreKeyStore {
  readonly #records = new Map<number, Uint8Array>();

  async loadPreKey(id: number): Promise<PreKeyRecord | undefined> {
    const bytes = this.#records.get(id);
    return bytes === undefined ? undefined : PreKeyRecord.deserialize(bytes);
  }

  async storePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.#records.set(id, record.serialize());
  }

  async removePreKey(id: number): Promise<void> {
    this.#records.delete(id);
  }

  get size(): number {
    return this.#records.size;
  }
}

export class InMemorySignedPreKeyStore implements SignedPreKeyStore {
  readonly #records = new Map<number, Uint8Array>();

  async loadSignedPreKey(id: number): Promise<SignedPreKeyRecord | undefined> {
    const bytes = this.#records.get(id);
    return bytes === undefined ? undefined : SignedPreKeyRecord.deserialize(bytes);
  }

  async storeSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.#records.set(id, record.serialize());
  }

  async removeSignedPreKey(id: number): Promise<void> {
    this.#records.delete(id);
  }
}

export class InMemoryPqPreKeyStore implements PqPreKeyStore {
  readonly #records = new Map<number, Uint8Array>();
  readonly #lastResortUses = new Set<string>();

  async loadPqPreKey(id: number): Promise<PqPreKeyRecord | undefined> {
    const bytes = this.#records.get(id);
    return bytes === undefined ? undefined : PqPreKeyRecord.deserialize(bytes);
  }

  async storePqPreKey(id: number, record: PqPreKeyRecord): Promise<void> {
    this.#records.set(id, record.serialize());
  }

  async markPqPreKeyUsed(id: number, signedPreKeyId: number, baseKey: Uint8Array): Promise<boolean> {
    const record = await this.loadPqPreKey(id);
    if (record === undefined) return true;
    if (!record.lastResort) {
      this.#records.delete(id);
      return true;
    }
    const use = lastResortUseKey(id, signedPreKeyId, baseKey);
    if (this.#lastResortUses.has(use)) return false;
    this.#lastResortUses.add(use);
    return true;
  }

  get size(): number {
    return this.#records.size;
  }
}

export class InMemorySessionStore implements SessionStore {
  readonly #records = new Map<string, Uint8Array>();

  async loadSession(address: ProtocolAddress): Promise<SessionRecord | undefined> {
    const bytes = this.#records.get(address.toString());
    return bytes === undefined ? undefined : SessionRecord.deserialize(bytes);
  }

  async storeSession(address: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.#records.set(address.toString(), record.serialize());
  }

  /** The stored bytes, for tests that capture or tamper with state. */
  rawSession(address: ProtocolAddress): Uint8Array | undefined {
    return this.#records.get(address.toString())?.slice();
  }

  /** Overwrites the stored bytes, for tests that restore a captured state. */
  restoreRawSession(address: ProtocolAddress, bytes: Uint8Array): void {
    this.#records.set(address.toString(), bytes.slice());
  }
}

export class InMemorySenderKeyStore implements SenderKeyStore {
  readonly #records = new Map<string, Uint8Array>();

  async loadSenderKey(sender: ProtocolAddress, distributionId: string): Promise<SenderKeyRecord | undefined> {
    const bytes = this.#records.get(`${sender.toString()}::${distributionId}`);
    return bytes === undefined ? undefined : SenderKeyRecord.deserialize(bytes);
  }

  async storeSenderKey(sender: ProtocolAddress, distributionId: string, record: SenderKeyRecord): Promise<void> {
    this.#records.set(`${sender.toString()}::${distributionId}`, record.serialize());
  }
}

/** In-memory stores for one device: for tests, benchmarks and throwaway sessions. */
export function inMemoryProtocolStores(
  identity: IdentityKeyPair,
  registrationId: number,
): ProtocolStores & {
  identities: InMemoryIdentityKeyStore;
  preKeys: InMemoryPreKeyStore;
  signedPreKeys: InMemorySignedPreKeyStore;
  pqPreKeys: InMemoryPqPreKeyStore;
  sessions: InMemorySessionStore;
} {
  return {
    identities: new InMemoryIdentityKeyStore(identity, registrationId),
    preKeys: new InMemoryPreKeyStore(),
    signedPreKeys: new InMemorySignedPreKeyStore(),
    pqPreKeys: new InMemoryPqPreKeyStore(),
    sessions: new InMemorySessionStore(),
  };
}
