/**
 * The SPA reads its API and WebSocket URLs at run time from /config.json
 * (written by the local twin, or by the CDK deployment next to the SPA in S3),
 * so one build serves every deployment.
 */
export interface RuntimeConfig {
  readonly apiUrl: string;
  readonly wsUrl: string;
  /** Optional: how long an outgoing call rings before it counts as missed (default 45). */
  readonly callRingTimeoutSeconds?: number;
}

export async function loadRuntimeConfig(): Promise<RuntimeConfig> {
  const response = await fetch('/config.json', { cache: 'no-store' });
  if (!response.ok) throw new Error(`config.json answered ${response.status}`);
  const value = (await response.json()) as Partial<RuntimeConfig>;
  if (typeof value.apiUrl !== 'string' || typeof value.wsUrl !== 'string') throw new Error('config.json is incomplete');
  const ring = value.callRingTimeoutSeconds;
  return {
    apiUrl: value.apiUrl,
    wsUrl: value.wsUrl,
    ...(typeof ring === 'number' && ring > 0 ? { callRingTimeoutSeconds: ring } : {}),
  };
}
