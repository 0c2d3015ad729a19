/**
 * What travels inside a `call.signal` ciphertext: one versioned, padded JSON signalling message, encrypted
 * pairwise for one device like a direct message. The SDP (and with it the DTLS fingerprints that authenticate
 * the media) only ever exists inside this ciphertext, so the relaying server can neither read nor swap it.
 *
 * - `offer`: the caller's SDP, to every device of the callee (they ring). `media` is what the caller offers.
 * - `ringing`: a callee device rings (the caller shows "Ringing").
 * - `answer`: the callee device that accepted, with its SDP; from then on the call is between two devices.
 * - `ice`: trickled candidates, batched.
 * - `decline`, `busy`: the callee device refuses (busy: already in a call).
 * - `hangup`: either side ends the call (`reason` for the other side's wording).
 * - `handled`: to one's own other devices: this device took (or declined) the call, stop ringing.
 */
import { z } from 'zod';
import { pad, unpad } from './padding.ts';

export const CALL_SIGNAL_VERSION = 1;
/** SDP of an audio+video offer is a few kB; this bounds what a peer can make us parse. */
export const MAX_SDP_LENGTH = 16_000;
export const MAX_CANDIDATES_PER_SIGNAL = 20;

export const CallMediaSchema = z.enum(['audio', 'video']);

const Sdp = z.string().min(1).max(MAX_SDP_LENGTH);

export const IceCandidate = z.strictObject({
  candidate: z.string().max(1000),
  sdpMid: z.string().max(64).nullable(),
  sdpMLineIndex: z.number().int().min(0).max(64).nullable(),
  usernameFragment: z.string().max(256).nullable().optional(),
});
export type IceCandidate = z.infer<typeof IceCandidate>;

export const CallSignal = z.discriminatedUnion('type', [
  z.strictObject({ v: z.literal(1), type: z.literal('offer'), media: CallMediaSchema, sdp: Sdp }),
  z.strictObject({ v: z.literal(1), type: z.literal('ringing') }),
  z.strictObject({ v: z.literal(1), type: z.literal('answer'), media: CallMediaSchema, sdp: Sdp }),
  z.strictObject({
    v: z.literal(1),
    type: z.literal('ice'),
    candidates: z.array(IceCandidate).min(1).max(MAX_CANDIDATES_PER_SIGNAL),
  }),
  z.strictObject({ v: z.literal(1), type: z.literal('decline') }),
  z.strictObject({ v: z.literal(1), type: z.literal('busy') }),
  z.strictObject({
    v: z.literal(1),
    type: z.literal('hangup'),
    reason: z.enum(['ended', 'cancelled', 'timeout', 'failed', 'answered_elsewhere']),
  }),
  z.strictObject({ v: z.literal(1), type: z.literal('handled'), outcome: z.enum(['accepted', 'declined']) }),
]);
export type CallSignal = z.infer<typeof CallSignal>;

/**
 * What is encrypted: the signal bound to its call and conversation. The frame carries both in the clear for
 * routing; the receiver checks them against these, so the server cannot move a signal to another call.
 */
export const BoundCallSignal = z.strictObject({
  callId: z.uuid(),
  conversationId: z.uuid(),
  signal: CallSignal,
});
export type BoundCallSignal = z.infer<typeof BoundCallSignal>;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeCallSignal(bound: BoundCallSignal): Uint8Array {
  return pad(encoder.encode(JSON.stringify(BoundCallSignal.parse(bound))));
}

/** Decrypted bytes to a bound signal; throws on bad padding, UTF-8, JSON or shape. */
export function decodeCallSignal(bytes: Uint8Array): BoundCallSignal {
  return BoundCallSignal.parse(JSON.parse(decoder.decode(unpad(bytes))));
}
