/**
 * The engine's local store: one interface over everything a device keeps (matrix-js-sdk's `IStore`), with an
 * IndexedDB implementation for the browser and an in-memory one for tests. Both are the same code over a
 * different `Tables` backend, so what the stages are tested against is what runs.
 *
 * A state change is one `commit`: an item, its search postings, the entry it came from marked processed and
 * the outbox job it queues or finishes are written in one transaction, all or nothing.
 */
import type { IdentityKeyPair, PqPreKeyRecord, PreKeyRecord, SignedPreKeyRecord } from '@ciphertalk/shared/crypto';
import { Idb } from './idb.ts';
import { type DeviceStores, deviceStores, pqRecordKey } from './keystore.ts';
import type {
  AvatarRecord,
  GroupRecord,
  ItemRecord,
  LocalDevice,
  OutboxRecord,
  PqKeysRecord,
  TrustRecord,
} from './records.ts';
import { MemoryTables, STORES, type Tables } from './tables.ts';

/** One state change, written at once. */
export interface Change {
  /** Items to store, each with the search terms it was indexed under before (dropped unless still present). */
  readonly put?: readonly { readonly item: ItemRecord; readonly previousTerms?: readonly string[] }[];
  readonly remove?: readonly ItemRecord[];
  /** Timeline entries (`conversationId:seq`) done with: never processed again. */
  readonly processed?: readonly string[];
  readonly enqueue?: OutboxRecord;
  /** An outbox job done with (sent, or failed for good). */
  readonly dequeue?: string;
}

/** `change` with `entryKeys` marked processed as well. */
export const andProcessed = (change: Change, ...entryKeys: string[]): Change => ({
  ...change,
  processed: [...(change.processed ?? []), ...entryKeys],
});

export interface LocalStore {
  /** The crypto library's stores (sessions, identities, prekeys and ML-KEM prekeys, sender keys). */
  cryptoStores(identity: IdentityKeyPair, registrationId: number): DeviceStores;
  /** Forgets everything (a device from an earlier login); the store stays open. */
  reset(): Promise<void>;
  close(): void;
  /** Closes and deletes the store. */
  destroy(): Promise<void>;

  device(): Promise<LocalDevice | undefined>;
  /** The device record with the keys generated for it, in one transaction. */
  saveDevice(
    device: LocalDevice,
    keys?: { signed?: SignedPreKeyRecord; preKeys?: readonly PreKeyRecord[] },
  ): Promise<void>;

  /** PQXDH: where this device's ML-KEM prekey ids stand. */
  pqKeys(): Promise<PqKeysRecord | undefined>;
  /** ML-KEM prekeys generated under `ids`, stored with it in one transaction (keys first, publication second). */
  savePqKeys(ids: PqKeysRecord, records: readonly PqPreKeyRecord[]): Promise<void>;
  /** A remote device (`userId.deviceId`) has published an ML-KEM prekey: a bundle of it must carry one. */
  isPostQuantum(address: string): Promise<boolean>;
  setPostQuantum(address: string): Promise<void>;

  items(): Promise<ItemRecord[]>;
  item(key: string): Promise<ItemRecord | undefined>;
  commit(change: Change): Promise<void>;
  /** The keys of items indexed under a term starting with `prefix`. */
  searchPrefix(prefix: string): Promise<Set<string>>;

  outbox(): Promise<unknown[]>;
  isProcessed(entryKey: string): Promise<boolean>;
  syncedUpTo(conversationId: string): Promise<number>;
  setSyncedUpTo(conversationId: string, seq: number): Promise<void>;

  trust(): Promise<{ userId: string; record: TrustRecord }[]>;
  trustOf(userId: string): Promise<TrustRecord | undefined>;
  setTrust(userId: string, record: TrustRecord): Promise<void>;

  group(conversationId: string): Promise<GroupRecord | undefined>;
  setGroup(conversationId: string, record: GroupRecord): Promise<void>;

  avatars(): Promise<AvatarRecord[]>;
  avatar(subject: string): Promise<AvatarRecord | undefined>;
  setAvatar(record: AvatarRecord): Promise<void>;
}

const AVATAR = 'avatar:';
const PQ_KEYS = 'pq';
const PQ_CAPABLE = 'pq-capable:';

class TablesStore implements LocalStore {
  #tables: Tables;

  constructor(
    tables: Tables,
    private readonly open: () => Promise<Tables>,
    private readonly drop: () => Promise<void>,
  ) {
    this.#tables = tables;
  }

  cryptoStores(identity: IdentityKeyPair, registrationId: number): DeviceStores {
    return deviceStores(this.#tables, identity, registrationId);
  }

  async reset(): Promise<void> {
    this.#tables.close();
    await this.drop();
    this.#tables = await this.open();
  }

  close(): void {
    this.#tables.close();
  }

  async destroy(): Promise<void> {
    this.#tables.close();
    await this.drop();
  }

  device(): Promise<LocalDevice | undefined> {
    return this.#tables.get<LocalDevice>(STORES.meta, 'device');
  }

  saveDevice(device: LocalDevice, keys: { signed?: SignedPreKeyRecord; preKeys?: readonly PreKeyRecord[] } = {}) {
    return this.#tables.write([STORES.meta, STORES.signedPreKeys, STORES.preKeys], (put) => {
      put(STORES.meta, device, 'device');
      if (keys.signed) put(STORES.signedPreKeys, keys.signed.serialize(), keys.signed.id);
      for (const p of keys.preKeys ?? []) put(STORES.preKeys, p.serialize(), p.id);
    });
  }

  pqKeys(): Promise<PqKeysRecord | undefined> {
    return this.#tables.get<PqKeysRecord>(STORES.meta, PQ_KEYS);
  }

  savePqKeys(ids: PqKeysRecord, records: readonly PqPreKeyRecord[]): Promise<void> {
    return this.#tables.write([STORES.meta, STORES.preKeys], (put) => {
      put(STORES.meta, ids, PQ_KEYS);
      for (const record of records) put(STORES.preKeys, record.serialize(), pqRecordKey(record.id));
    });
  }

  async isPostQuantum(address: string): Promise<boolean> {
    return (await this.#tables.get<boolean>(STORES.meta, `${PQ_CAPABLE}${address}`)) === true;
  }

  setPostQuantum(address: string): Promise<void> {
    return this.#tables.put(STORES.meta, true, `${PQ_CAPABLE}${address}`);
  }

  items(): Promise<ItemRecord[]> {
    return this.#tables.getAll<ItemRecord>(STORES.items);
  }

  item(key: string): Promise<ItemRecord | undefined> {
    return this.#tables.get<ItemRecord>(STORES.items, key);
  }

  commit(change: Change): Promise<void> {
    return this.#tables.write([STORES.items, STORES.postings, STORES.seen, STORES.outbox], (put, del) => {
      for (const { item, previousTerms = [] } of change.put ?? []) {
        put(STORES.items, item);
        for (const term of previousTerms) if (!item.terms.includes(term)) del(STORES.postings, [term, item.key]);
        for (const term of item.terms) put(STORES.postings, { term, key: item.key });
      }
      for (const item of change.remove ?? []) {
        del(STORES.items, item.key);
        for (const term of item.terms) del(STORES.postings, [term, item.key]);
      }
      for (const key of change.processed ?? []) put(STORES.seen, true, key);
      if (change.enqueue) put(STORES.outbox, change.enqueue);
      if (change.dequeue) del(STORES.outbox, change.dequeue);
    });
  }

  async searchPrefix(prefix: string): Promise<Set<string>> {
    const postings = await this.#tables.getAllWithPrefix<{ term: string; key: string }>(STORES.postings, prefix);
    return new Set(postings.map((p) => p.key));
  }

  outbox(): Promise<unknown[]> {
    return this.#tables.getAll(STORES.outbox);
  }

  async isProcessed(entryKey: string): Promise<boolean> {
    return (await this.#tables.get(STORES.seen, entryKey)) !== undefined;
  }

  async syncedUpTo(conversationId: string): Promise<number> {
    return (await this.#tables.get<number>(STORES.meta, `synced:${conversationId}`)) ?? 0;
  }

  setSyncedUpTo(conversationId: string, seq: number): Promise<void> {
    return this.#tables.put(STORES.meta, seq, `synced:${conversationId}`);
  }

  async trust(): Promise<{ userId: string; record: TrustRecord }[]> {
    const records = await this.#tables.getAll<TrustRecord & { userId: string }>(STORES.trust);
    return records.map(({ userId, ...record }) => ({ userId, record }));
  }

  async trustOf(userId: string): Promise<TrustRecord | undefined> {
    const stored = await this.#tables.get<TrustRecord & { userId: string }>(STORES.trust, userId);
    if (!stored) return undefined;
    const { userId: _, ...record } = stored;
    return record;
  }

  setTrust(userId: string, record: TrustRecord): Promise<void> {
    return this.#tables.put(STORES.trust, { ...record, userId }, userId);
  }

  group(conversationId: string): Promise<GroupRecord | undefined> {
    return this.#tables.get<GroupRecord>(STORES.groups, conversationId);
  }

  setGroup(conversationId: string, record: GroupRecord): Promise<void> {
    return this.#tables.put(STORES.groups, record, conversationId);
  }

  async avatars(): Promise<AvatarRecord[]> {
    return (await this.#tables.getAllWithPrefix<AvatarRecord>(STORES.meta, AVATAR)).filter((r) => r?.subject);
  }

  avatar(subject: string): Promise<AvatarRecord | undefined> {
    return this.#tables.get<AvatarRecord>(STORES.meta, `${AVATAR}${subject}`);
  }

  setAvatar(record: AvatarRecord): Promise<void> {
    return this.#tables.put(STORES.meta, record, `${AVATAR}${record.subject}`);
  }
}

/** The browser's store: one IndexedDB database per user. */
export async function openIndexedDbStore(factory: IDBFactory, name: string): Promise<LocalStore> {
  const open = () => Idb.open(factory, name);
  return new TablesStore(await open(), open, () => Idb.delete(factory, name));
}

/** A store in memory: what the stages' unit tests run against. */
export function memoryStore(): LocalStore {
  return new TablesStore(
    new MemoryTables(),
    async () => new MemoryTables(),
    async () => undefined,
  );
}
