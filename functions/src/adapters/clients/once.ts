/**
 * A container's client: created on first use and then kept for the container's life (a handler that never
 * touches PostgreSQL opens no pool).
 */
export function once<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= create();
    return value;
  };
}

/** Like `once` for async creation; a failure is not kept, so the next call tries again. */
export function onceAsync<T>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => {
    value ??= create().catch((error: unknown) => {
      value = undefined;
      throw error;
    });
    return value;
  };
}
