/**
 * A small promise layer over IndexedDB: one database per user, one short transaction per call. Runs on the
 * browser's `indexedDB` and, in Node tests, on fake-indexeddb.
 */

export const STORES = {
  meta: 'meta',
  preKeys: 'preKeys',
  signedPreKeys: 'signedPreKeys',
  sessions: 'sessions',
  identities: 'identities',
  senderKeys: 'senderKeys',
  items: 'items',
  seen: 'seen',
  outbox: 'outbox',
  trust: 'trust',
  postings: 'postings',
  groups: 'groups',
} as const;
export type StoreName = (typeof STORES)[keyof typeof STORES];

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

export class Idb {
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

  async get<T>(store: StoreName, key: IDBValidKey): Promise<T | undefined> {
    const tx = this.#db.transaction(store, 'readonly');
    return (await request(tx.objectStore(store).get(key))) as T | undefined;
  }

  async put(store: StoreName, value: unknown, key?: IDBValidKey): Promise<void> {
    const tx = this.#db.transaction(store, 'readwrite');
    tx.objectStore(store).put(value, key);
    await done(tx);
  }

  async delete(store: StoreName, key: IDBValidKey | IDBKeyRange): Promise<void> {
    const tx = this.#db.transaction(store, 'readwrite');
    tx.objectStore(store).delete(key);
    await done(tx);
  }

  async getAll<T>(store: StoreName, query?: IDBKeyRange): Promise<T[]> {
    const tx = this.#db.transaction(store, 'readonly');
    return (await request(tx.objectStore(store).getAll(query))) as T[];
  }

  async getAllByIndex<T>(store: StoreName, index: string, query: IDBValidKey | IDBKeyRange): Promise<T[]> {
    const tx = this.#db.transaction(store, 'readonly');
    return (await request(tx.objectStore(store).index(index).getAll(query))) as T[];
  }

  /** Several writes in one transaction: all or nothing. */
  async write(
    stores: readonly StoreName[],
    work: (
      put: (store: StoreName, value: unknown, key?: IDBValidKey) => void,
      del: (store: StoreName, key: IDBValidKey) => void,
    ) => void,
  ): Promise<void> {
    const tx = this.#db.transaction(stores as StoreName[], 'readwrite');
    work(
      (store, value, key) => tx.objectStore(store).put(value, key),
      (store, key) => tx.objectStore(store).delete(key),
    );
    await done(tx);
  }
}
