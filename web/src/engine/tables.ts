/**
 * The key-value tables under the local store: IndexedDB in the browser (`idb.ts`) and this file's in-memory
 * twin in tests. Both copy values on the way in and out (structured clone), so a caller that mutates what it
 * read never changes what is stored.
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
export type Key = string | number | readonly (string | number)[];

/** Stores whose records carry their own key (IndexedDB `keyPath`); the others take the key from the caller. */
export const KEY_PATHS: Partial<Record<StoreName, string | readonly string[]>> = {
  items: 'key',
  outbox: 'contentId',
  postings: ['term', 'key'],
};

export type Put = (store: StoreName, value: unknown, key?: Key) => void;
export type Del = (store: StoreName, key: Key) => void;

export interface Tables {
  get<T>(store: StoreName, key: Key): Promise<T | undefined>;
  put(store: StoreName, value: unknown, key?: Key): Promise<void>;
  delete(store: StoreName, key: Key): Promise<void>;
  getAll<T>(store: StoreName): Promise<T[]>;
  /** Records whose key (its first part, for compound keys) starts with `prefix`, in key order. */
  getAllWithPrefix<T>(store: StoreName, prefix: string): Promise<T[]>;
  /** Several writes in one transaction: all or nothing. */
  write(stores: readonly StoreName[], work: (put: Put, del: Del) => void): Promise<void>;
  close(): void;
}

function keyOf(store: StoreName, value: unknown, key: Key | undefined): Key {
  const path = KEY_PATHS[store];
  if (path === undefined) {
    if (key === undefined) throw new Error(`${store} needs a key`);
    return key;
  }
  const record = value as Record<string, string | number>;
  return typeof path === 'string' ? (record[path] as string | number) : path.map((p) => record[p] as string | number);
}

const rank = (k: Key) => (typeof k === 'number' ? 0 : typeof k === 'string' ? 1 : 2);

/** IndexedDB's key order: numbers, then strings, then arrays (element by element). */
function compareKeys(a: Key, b: Key): number {
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compareKeys(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const first = (k: Key): string | number => (Array.isArray(k) ? (k[0] ?? '') : (k as string | number));

/** The in-memory tables: what the engine's stages are tested against. */
export class MemoryTables implements Tables {
  readonly #stores = new Map<StoreName, Map<string, { key: Key; value: unknown }>>();

  #store(name: StoreName) {
    let store = this.#stores.get(name);
    if (!store) {
      store = new Map();
      this.#stores.set(name, store);
    }
    return store;
  }

  async get<T>(store: StoreName, key: Key): Promise<T | undefined> {
    const row = this.#store(store).get(JSON.stringify(key));
    return row === undefined ? undefined : (structuredClone(row.value) as T);
  }

  async put(store: StoreName, value: unknown, key?: Key): Promise<void> {
    this.#put(store, value, key);
  }

  async delete(store: StoreName, key: Key): Promise<void> {
    this.#store(store).delete(JSON.stringify(key));
  }

  async getAll<T>(store: StoreName): Promise<T[]> {
    return this.#rows(store, () => true);
  }

  async getAllWithPrefix<T>(store: StoreName, prefix: string): Promise<T[]> {
    return this.#rows(store, (key) => String(first(key)).startsWith(prefix));
  }

  async write(_stores: readonly StoreName[], work: (put: Put, del: Del) => void): Promise<void> {
    const puts: (() => void)[] = [];
    work(
      (store, value, key) => {
        const copy = structuredClone(value);
        puts.push(() => this.#put(store, copy, key));
      },
      (store, key) => puts.push(() => this.#store(store).delete(JSON.stringify(key))),
    );
    for (const apply of puts) apply();
  }

  close(): void {}

  #put(store: StoreName, value: unknown, key?: Key): void {
    const k = keyOf(store, value, key);
    this.#store(store).set(JSON.stringify(k), { key: k, value: structuredClone(value) });
  }

  #rows<T>(store: StoreName, keep: (key: Key) => boolean): T[] {
    return [...this.#store(store).values()]
      .filter((row) => keep(row.key))
      .sort((a, b) => compareKeys(a.key, b.key))
      .map((row) => structuredClone(row.value) as T);
  }
}
