/**
 * What the call state machine (`calls.ts`) gets from the rest of the engine, its `CallPort`: pairwise-encrypted
 * `call.signal` frames (the same sessions as direct messages; relayed, never stored), device lists, ICE servers
 * (`GET /calls/ice-servers`, cached until a minute before the TURN credentials expire) and the call event that
 * goes through the outbox like a message. Incoming signals are opened and checked here before the machine sees them.
 */
import { ProtocolAddress } from '@ciphertalk/shared/crypto';
import type { Envelope, ServerFrame } from '@ciphertalk/shared/protocol';
import type { ApiClient } from './api-client.ts';
import { fromBase64 } from './base64.ts';
import { type CallSignal, decodeCallSignal, encodeCallSignal } from './call-signal.ts';
import type { CallManager, CallPort, DeviceAddress } from './calls.ts';
import type { Directory } from './directory.ts';
import { EngineError } from './errors.ts';
import { WS_SEND_MAX_CHARS } from './sender.ts';
import type { Socket } from './socket.ts';
import type { CallEventView } from './types.ts';

export interface CallLinkDeps {
  readonly api: ApiClient;
  readonly socket: () => Socket | null;
  readonly directory: Directory;
  readonly userId: string;
  readonly deviceId: number;
  readonly seal: (addresses: readonly ProtocolAddress[], plaintext: Uint8Array) => Promise<Envelope[]>;
  readonly open: (sender: ProtocolAddress, bytes: Uint8Array) => Promise<Uint8Array>;
  /** Shows and queues the caller's call event. */
  readonly record: (conversationId: string, event: CallEventView) => Promise<void>;
  readonly log: (event: string, detail?: Record<string, unknown>) => void;
}

/** Splits envelopes into frames under API Gateway's 32 KB (an offer's SDP is a few kB per device). */
export function batches(envelopes: readonly Envelope[], maxChars = WS_SEND_MAX_CHARS - 2000): Envelope[][] {
  const frames: Envelope[][] = [[]];
  let size = 0;
  for (const envelope of envelopes) {
    const current = frames.at(-1) as Envelope[];
    if (current.length > 0 && size + envelope.ciphertext.length > maxChars) {
      frames.push([envelope]);
      size = envelope.ciphertext.length;
    } else {
      current.push(envelope);
      size += envelope.ciphertext.length;
    }
  }
  return frames;
}

export class CallLink {
  readonly #deps: CallLinkDeps;
  #iceCache: { servers: RTCIceServer[]; until: number } | null = null;

  constructor(deps: CallLinkDeps) {
    this.#deps = deps;
  }

  port(): CallPort {
    const { directory } = this.#deps;
    return {
      userId: this.#deps.userId,
      deviceId: this.#deps.deviceId,
      peerOf: (conversationId) => directory.peerOf(conversationId),
      devicesOf: async (userId) => (await directory.devicesOf(userId, true)).map((d) => d.deviceId),
      send: (conversationId, callId, to, signal) => this.#send(conversationId, callId, to, signal),
      iceServers: () => this.#iceServers(),
      record: (conversationId, event) => this.#deps.record(conversationId, event),
      log: this.#deps.log,
    };
  }

  /** An incoming `call.signal`: opened, bound to its call and conversation, then handed to the machine. */
  async receive(calls: CallManager | null, frame: ServerFrame & { type: 'call.signal' }): Promise<void> {
    const from = { userId: frame.fromUserId, deviceId: frame.fromDeviceId };
    let signal: CallSignal;
    try {
      if (frame.envelope.type === 'sender_key') throw new Error('call signals are pairwise');
      const sender = ProtocolAddress.of(from.userId, from.deviceId);
      const bound = decodeCallSignal(await this.#deps.open(sender, fromBase64(frame.envelope.ciphertext)));
      if (bound.callId !== frame.callId || bound.conversationId !== frame.conversationId) {
        throw new Error('the signal was encrypted for another call or conversation');
      }
      signal = bound.signal;
    } catch (error) {
      this.#deps.log('call.signal_rejected', { error: String(error) });
      return;
    }
    if (!this.#deps.directory.known(frame.conversationId)) await this.#deps.directory.refresh().catch(() => undefined);
    calls?.receive(from, frame.conversationId, frame.callId, signal);
  }

  /** One pairwise ciphertext per device (the same sessions as direct messages), relayed, never stored. */
  async #send(conversationId: string, callId: string, to: readonly DeviceAddress[], signal: CallSignal) {
    const plaintext = encodeCallSignal({ callId, conversationId, signal });
    const envelopes = await this.#deps.seal(
      to.map((d) => ProtocolAddress.of(d.userId, d.deviceId)),
      plaintext,
    );
    for (const batch of batches(envelopes)) {
      const socket = this.#deps.socket();
      if (!socket?.online) throw new EngineError('offline', 'Not connected');
      await socket.request({ action: 'call.signal', conversationId, callId, envelopes: batch });
    }
    this.#deps.log('call.signal_sent', { type: signal.type, devices: envelopes.length });
  }

  async #iceServers(): Promise<RTCIceServer[]> {
    const cached = this.#iceCache;
    if (cached && cached.until > Date.now()) return cached.servers;
    const answer = await this.#deps.api.call('GET /calls/ice-servers');
    const servers: RTCIceServer[] = answer.iceServers.map((s) => ({
      urls: s.urls,
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.credential !== undefined ? { credential: s.credential } : {}),
    }));
    const until = answer.expiresAt ? Date.parse(answer.expiresAt) - 60_000 : Date.now() + 10 * 60_000;
    this.#iceCache = { servers, until };
    return servers;
  }
}
