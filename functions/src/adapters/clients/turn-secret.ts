import { loadSecret } from '#adapters/jwt-key.ts';
import { config } from '#config';
import { onceAsync } from './once.ts';

/** The TURN server's shared secret (null when no TURN server is configured), read once per container. */
export const turnSecret = onceAsync(
  async (): Promise<string | null> =>
    (await loadSecret({
      secret: config.ice.turnSecret,
      secretArn: config.ice.turnSecretArn,
      region: config.region,
    })) ?? null,
);
