import { createHmac } from 'node:crypto';
import type { IceServersResponse } from '@ciphertalk/shared/protocol';

export interface IceSettings {
  readonly stunUrls: readonly string[];
  readonly turnUrls: readonly string[];
  readonly ttlSeconds: number;
}

/**
 * The ICE servers for a caller. TURN credentials follow the TURN REST API that coturn implements
 * (`use-auth-secret`): the username is `<expiry epoch seconds>:<user id>` and the credential the base64
 * HMAC-SHA1 of it under the shared secret, so the TURN server checks them without a call to us and they
 * stop working at the expiry. Without a secret (or TURN URLs) only STUN is handed out.
 */
export function iceServers(
  settings: IceSettings,
  turnSecret: string | null,
  userId: string,
  now: Date,
): IceServersResponse {
  const servers: IceServersResponse['iceServers'] = [];
  if (settings.stunUrls.length > 0) servers.push({ urls: [...settings.stunUrls] });
  if (settings.turnUrls.length === 0 || !turnSecret) return { iceServers: servers, expiresAt: null };
  const expiry = Math.floor(now.getTime() / 1000) + settings.ttlSeconds;
  const username = `${expiry}:${userId}`;
  const credential = createHmac('sha1', turnSecret).update(username).digest('base64');
  servers.push({ urls: [...settings.turnUrls], username, credential });
  return { iceServers: servers, expiresAt: new Date(expiry * 1000).toISOString() };
}
