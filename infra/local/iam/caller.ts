import { AsyncLocalStorage } from 'node:async_hooks';
import { createRequire } from 'node:module';

/** The credentials a Lambda container's AWS SDK finds in its environment. */
export interface CallerCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

type Provider = (options?: unknown) => Promise<unknown>;
type DefaultProvider = (init?: unknown) => Provider;

/**
 * In Lambda every function has its own container, so its SDK clients sign with its own role's credentials.
 * The twin runs every function in one process, where module-level SDK clients are shared between
 * functions. So the twin runs each invocation inside an async context that carries the function's
 * credentials, and the SDK's default credential provider answers from that context, per request: every
 * signature and presigned URL a handler makes carries its own function's access key id, whichever
 * client instance made it. Outside an invocation (the twin's own set-up, tests' own clients) the
 * ordinary chain answers (the environment's emulator key).
 *
 * Kept on `globalThis` so that every copy of this module (test runners re-evaluate modules per file in
 * one process) shares the one context the patched provider reads.
 */
const callerKey = Symbol.for('ciphertalk.twin.callerCredentials');
const scope = globalThis as { [callerKey]?: AsyncLocalStorage<CallerCredentials> };
scope[callerKey] ??= new AsyncLocalStorage<CallerCredentials>();
const callers = scope[callerKey];

export function runAsCaller<T>(credentials: CallerCredentials | null, run: () => T): T {
  return credentials ? callers.run(credentials, run) : callers.exit(run);
}

const installedKey = Symbol.for('ciphertalk.twin.callerProviderInstalled');

/**
 * Wraps `@aws-sdk/credential-provider-node`'s `defaultProvider`, which every client package reads when it
 * is first loaded: so this must run before any `@aws-sdk/client-*` module loads (it throws otherwise, rather
 * than leave clients that sign with the shared key). The invocation's credentials are returned per call,
 * outside the SDK's memoisation, so concurrent invocations of different functions never share them.
 */
export function installCallerCredentials(): void {
  const require = createRequire(import.meta.url);
  const module = require('@aws-sdk/credential-provider-node') as {
    defaultProvider: DefaultProvider & { [installedKey]?: true };
  };
  if (module.defaultProvider[installedKey]) return;
  const early = Object.keys(require.cache).filter((path) => /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]/.test(path));
  if (early.length > 0) {
    throw new Error(
      `the twin's per-function credentials must be installed before any AWS SDK client loads; already loaded: ${early[0]}`,
    );
  }
  const original = module.defaultProvider;
  const wrapped = ((init?: unknown): Provider => {
    const fallback = original(init);
    return async (options?: unknown) => {
      const caller = callers.getStore();
      return caller ? { ...caller } : fallback(options);
    };
  }) as DefaultProvider & { [installedKey]?: true };
  wrapped[installedKey] = true;
  module.defaultProvider = wrapped;
}
