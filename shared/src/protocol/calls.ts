import { z } from 'zod';
import { text } from './text.ts';

/**
 * Calls: one-to-one WebRTC. Signalling (offer, answer, ICE candidates, ringing, hang-up) travels end to end
 * encrypted over the WebSocket `call.signal` action; the API hands out the ICE servers, with short-lived
 * TURN credentials where a TURN server is configured.
 */
export const IceServer = z.object({
  urls: z.array(text().min(1)).min(1),
  username: text().optional(),
  credential: text().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

/** `GET /calls/ice-servers`: pass `iceServers` to `RTCPeerConnection`; fetch again before `expiresAt`. */
export const IceServersResponse = z.object({
  iceServers: z.array(IceServer),
  /** When the TURN credentials stop working (null without TURN). */
  expiresAt: z.iso.datetime().nullable(),
});
export type IceServersResponse = z.infer<typeof IceServersResponse>;
