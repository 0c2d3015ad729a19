import { PingFrame, type PongFrame } from '@ciphertalk/shared/protocol';
import { connectionsApi } from '#adapters/clients/connections-api.ts';
import { frameHandler } from '#lib/ws.ts';

/** ping: answers pong through @connections, the path every real-time answer takes. */
export const handler = frameHandler(PingFrame, async ({ frame, connectionId }) => {
  const pong: PongFrame = { type: 'pong', id: frame.id, payload: frame.payload, at: Date.now() };
  await connectionsApi().post(connectionId, pong);
});
