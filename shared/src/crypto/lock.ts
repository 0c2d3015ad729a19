/**
 * Serialises the asynchronous load-change-store sequences on one record. Without it, two decryptions for the
 * same address running concurrently would both load the same session and the second store would undo the
 * first: a consumed message key would come back (a replay would decrypt) and the ratchet could step back.
 * Queues are per store object and per record key, so unrelated sessions still run concurrently.
 */
const queues = new WeakMap<object, Map<string, Promise<void>>>();

export async function serialized<T>(store: object, key: string, task: () => Promise<T>): Promise<T> {
  let byKey = queues.get(store);
  if (byKey === undefined) {
    byKey = new Map();
    queues.set(store, byKey);
  }
  const previous = byKey.get(key) ?? Promise.resolve();
  const run = previous.then(task);
  const tail = run.then(
    () => undefined,
    () => undefined,
  );
  byKey.set(key, tail);
  try {
    return await run;
  } finally {
    if (byKey.get(key) === tail) byKey.delete(key);
  }
}
