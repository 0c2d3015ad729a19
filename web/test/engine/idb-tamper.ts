/** Test-only surgery on an engine's IndexedDB (fake-indexeddb): what a lost or restored-from-backup state looks like. */
export function deleteRecord(database: string, store: string, key: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(database);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(store, 'readwrite');
      tx.objectStore(store).delete(key);
      tx.oncomplete = () => {
        db.close();
        resolve();
      };
      tx.onerror = () => reject(tx.error);
    };
  });
}
