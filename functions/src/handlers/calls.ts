import type { IceServersResponse } from '@ciphertalk/shared/protocol';
import { turnSecret } from '#adapters/clients/turn-secret.ts';
import { config } from '#config';
import { iceServers } from '#domain/ice.ts';
import { json, route } from '#lib/http.ts';
import { principalOf } from '#lib/principal.ts';
import { routes } from '#lib/router.ts';

/** `GET /calls/ice-servers`: the STUN/TURN servers for WebRTC, TURN credentials valid TURN_CREDENTIAL_TTL_SECONDS. */
export const handler = routes({
  'GET /calls/ice-servers': route('GET /calls/ice-servers', async (request) => {
    const { userId } = principalOf(request.event);
    const servers = iceServers(config.ice, await turnSecret(), userId, new Date());
    return json(200, servers satisfies IceServersResponse, { headers: { 'cache-control': 'no-store' } });
  }),
});
