import type { DependencyStatus, HealthResponse } from '@ciphertalk/shared/protocol';

export type Probe = () => Promise<unknown>;
export type Dependency = Exclude<keyof HealthResponse, 'status'>;

/**
 * Runs every probe at once, each bounded by `timeoutMs`; a probe that throws or
 * does not answer in time marks its dependency down. The reason goes to `onDown`
 * (for the logs), never into the response.
 */
export async function checkHealth(
  probes: Record<Dependency, Probe>,
  timeoutMs: number,
  onDown: (dependency: Dependency, reason: unknown) => void = () => undefined,
): Promise<HealthResponse> {
  const entries = Object.entries(probes) as [Dependency, Probe][];
  const results = await Promise.all(
    entries.map(async ([dependency, probe]): Promise<[Dependency, DependencyStatus]> => {
      try {
        await withTimeout(probe(), timeoutMs);
        return [dependency, 'ok'];
      } catch (reason) {
        onDown(dependency, reason);
        return [dependency, 'down'];
      }
    }),
  );
  const statuses = Object.fromEntries(results) as Record<Dependency, DependencyStatus>;
  const status = results.every(([, s]) => s === 'ok') ? 'ok' : 'down';
  return { status, ...statuses };
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
