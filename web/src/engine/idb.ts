/**
 * The local tables over IndexedDB: one database per user, one short transaction per call. Runs on the
 * browser's `indexedDB` and, in Node tests, on fake-indexeddb.
 */
import { type Del, KEY_PATHS, type Key, type Put, STORES, type StoreName, type Tables } from './tables.ts';

export { STORES, type StoreName } from './tables.ts';

const VERSION = 1;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

export class Idb implements Tables {
  readonly #db: IDBDatabase;

  private constructor(db: IDBDatabase) {
    this.#db = db;
  }

  static async open(factory: IDBFactory, name: string): Promise<Idb> {
    const open = factory.open(name, VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      // Key-value stores: the caller gives the key.
      for (const store of [
        STORES.meta,
        STORES.preKeys,
        STORES.signedPreKeys,
        STORES.sessions,
        STORES.identities,
        STORES.senderKeys,
        STORES.seen,
        STORES.trust,
        STORES.groups,
      ]) {
        db.createObjectStore(store);
      }
      const items = db.createObjectStore(STORES.items, { keyPath: 'key' });
      items.createIndex('conversation', 'conversationId');
      items.createIndex('content', ['conversationId', 'contentId']);
      db.createObjectStore(STORES.outbox, { keyPath: 'contentId' }).createIndex('queuedAt', 'queuedAt');
      db.createObjectStore(STORES.postings, { keyPath: ['term', 'key'] });
    };
    return new Idb(await request(open));
  }

  static async delete(factory: IDBFactory, name: string): Promise<void> {
    await request(factory.deleteDatabase(name));
  }

  close(): void {
    this.#db.close();
  }

  async get<T>(store: StoreName, key: Key): Promise<T | undefined> {
    const tx = this.#db.transaction(store, 'readonly');
    return (await request(tx.objectStore(store).get(key as IDBValidKey))) as T | undefined;
  }

  async put(store: StoreName, value: unknown, key?: Key): Promise<void> {
    const tx = this.#db.transaction(store, 'readwrite');
    tx.objectStore(store).put(value, key as IDBValidKey | undefined);
    await done(tx);
  }

  async delete(store: StoreName, key: Key): Promise<void> {
    const tx = this.#db.transaction(store, 'readwrite');
    tx.objectStore(store).delete(key as IDBValidKey);
    await done(tx);
  }

  async getAll<T>(store: StoreName): Promise<T[]> {
    const tx = this.#db.transaction(store, 'readonly');
    return (await request(tx.objectStore(store).getAll())) as T[];
  }

  async getAllWithPrefix<T>(store: StoreName, prefix: string): Promise<T[]> {
    const compound = Array.isArray(KEY_PATHS[store]);
    const range = compound
      ? IDBKeyRange.bound([prefix], [`${prefix}\uffff`])
      : IDBKeyRange.bound(prefix, `${prefix}\uffff`);
    const tx = this.#db.transaction(store, 'readonly');
    return (await request(tx.objectStore(store).getAll(range))) as T[];
  }

  async write(stores: readonly StoreName[], work: (put: Put, del: Del) => void): Promise<void> {
    const tx = this.#db.transaction(stores as StoreName[], 'readwrite');
    work(
      (store, value, key) => tx.objectStore(store).put(value, key as IDBValidKey | undefined),
      (store, key) => tx.objectStore(store).delete(key as IDBValidKey),
    );
    await done(tx);
  }
}
