/**
 * One-to-one calls over WebRTC, for direct conversations. This file is the call state machine and the media;
 * the core gives it a {@link CallPort}: pairwise-encrypted `call.signal` sending, device lists, ICE servers, and
 * the call event that goes into the conversation. Signals it receives were decrypted by the core and validated
 * with `CallSignal` (zod); here they are checked against the call: who may send what, in which state.
 *
 * The call's life, for the caller: `outgoing` (the offer goes to every device of the callee; `ringing` once one
 * rings) → `connecting` (one device answered: from then on only that device counts) → `connected` (ICE and
 * DTLS done) → `ended`. For the callee's devices: `incoming` (ringing) → accept / decline; the device that
 * accepts or declines tells the user's other devices (`handled`), which stop ringing. A device already in a
 * call answers `busy`. The caller ends a call that rings too long (missed) and writes the call event.
 *
 * Every RTCPeerConnection has one audio and one video transceiver, both send-receive, even in a voice call: the
 * video sender then exists (without a track) and screen sharing or turning the camera on is a `replaceTrack`,
 * never a renegotiation.
 */
import type { CallSignal, IceCandidate } from './call-signal.ts';
import { EngineError } from './errors.ts';
import type {
  CallEventView,
  CallMedia,
  CallMediaDeps,
  CallOutcome,
  CallStatsView,
  CallView,
  EngineConfig,
} from './types.ts';

export const DEFAULT_RING_TIMEOUT_MS = 45_000;
/** The callee's own bound, in case the caller's hang-up never arrives. */
const CALLEE_GRACE_MS = 15_000;
/** How long an ended call stays on screen. */
const ENDED_LINGER_MS = 2500;
const STATS_INTERVAL_MS = 1000;
const ICE_BATCH_MS = 50;
const POOR_RTT_MS = 400;
const DISCONNECTED_GRACE_MS = 10_000;
/** From the answer to media flowing: ICE and DTLS take a second or two; beyond this the call failed. */
const CONNECT_TIMEOUT_MS = 30_000;

export interface DeviceAddress {
  readonly userId: string;
  readonly deviceId: number;
}

export interface SignalState<T> {
  value: T;
}

/** What the call machine needs from the core. */
export interface CallPort {
  readonly userId: string;
  readonly deviceId: number;
  /** The other member of a direct conversation; null for groups and unknown conversations. */
  peerOf(conversationId: string): { userId: string; displayName: string } | null;
  /** A user's live device ids (fetched afresh). */
  devicesOf(userId: string): Promise<number[]>;
  /** Encrypts `signal` for each device pairwise and relays it with `call.signal`. */
  send(conversationId: string, callId: string, to: readonly DeviceAddress[], signal: CallSignal): Promise<void>;
  iceServers(): Promise<RTCIceServer[]>;
  /** Writes the call event into the conversation (an encrypted `call` content item). */
  record(conversationId: string, event: CallEventView): Promise<void>;
  log(event: string, detail?: Record<string, unknown>): void;
}

interface ActiveCall {
  readonly callId: string;
  readonly conversationId: string;
  readonly peer: { userId: string; displayName: string };
  readonly direction: 'outgoing' | 'incoming';
  readonly media: CallMedia;
  view: CallView;
  /** The peer's device this call is with (incoming: the caller's; outgoing: the one that answered). */
  peerDevice: number | null;
  /** Outgoing: the callee devices the offer went to. */
  offeredTo: number[];
  offerSent: boolean;
  /** Incoming: our answer went out (our candidates must not overtake it). */
  answerSent: boolean;
  /** Outgoing: candidates of callee devices that arrived before (or without) their answer. */
  earlyRemote: Map<number, IceCandidate[]>;
  offerSdp: string | null;
  pc: RTCPeerConnection | null;
  local: MediaStream | null;
  screen: MediaStream | null;
  remote: MediaStream | null;
  remoteDescribed: boolean;
  pendingRemote: IceCandidate[];
  pendingLocal: IceCandidate[];
  iceTimer: ReturnType<typeof setTimeout> | null;
  ringTimer: ReturnType<typeof setTimeout> | null;
  statsTimer: ReturnType<typeof setInterval> | null;
  /** Runs while the connection is not up: from the answer until connected, and while `disconnected`. */
  lostTimer: ReturnType<typeof setTimeout> | null;
  lastInbound: number | null;
  connectedAt: number | null;
  ended: boolean;
}

const randomUuid = () => globalThis.crypto.randomUUID();

export class CallManager {
  #active: ActiveCall | null = null;
  readonly #ringTimeoutMs: number;
  readonly #media: CallMediaDeps;

  constructor(
    private readonly port: CallPort,
    private readonly call: SignalState<CallView | null>,
    private readonly stats: SignalState<CallStatsView | null>,
    config: Pick<EngineConfig, 'callRingTimeoutMs' | 'media'>,
  ) {
    this.#ringTimeoutMs = config.callRingTimeoutMs ?? DEFAULT_RING_TIMEOUT_MS;
    this.#media = config.media ?? {};
    if (typeof globalThis.addEventListener === 'function') globalThis.addEventListener('pagehide', this.#onPageHide);
  }

  /** The tab goes away: try to say goodbye, and close the connection (the peer notices it go). */
  readonly #onPageHide = () => {
    const a = this.#active;
    if (a && !a.ended) void this.hangUp().catch(() => undefined);
  };

  get busy(): boolean {
    return this.#active !== null && !this.#active.ended;
  }

  // ---------------------------------------------------------------- actions

  async start(conversationId: string, media: CallMedia): Promise<void> {
    if (this.busy) throw new EngineError('busy', 'You are already in a call');
    const peer = this.port.peerOf(conversationId);
    if (!peer) throw new EngineError('invalid', 'Calls are for direct conversations');
    const a = this.#open({ callId: randomUuid(), conversationId, peer, direction: 'outgoing', media });
    try {
      const devices = await this.port.devicesOf(peer.userId);
      if (devices.length === 0) throw new EngineError('unavailable', `${peer.displayName} has no device to call`);
      a.offeredTo = devices;
      const local = await this.#capture({ audio: true, video: media === 'video' });
      if (a.ended) {
        stopAll(local);
        return;
      }
      a.local = local;
      const pc = await this.#connect(a);
      const audio = local.getAudioTracks()[0];
      const video = local.getVideoTracks()[0];
      pc.addTransceiver(audio ?? 'audio', { direction: 'sendrecv', streams: [local] });
      pc.addTransceiver(video ?? 'video', { direction: 'sendrecv', streams: [local] });
      await pc.setLocalDescription(await pc.createOffer());
      const sdp = pc.localDescription?.sdp;
      if (!sdp || a.ended) return;
      this.#update(a, { localStream: local, cameraOff: video === undefined });
      await this.port.send(
        conversationId,
        a.callId,
        devices.map((deviceId) => ({ userId: peer.userId, deviceId })),
        { v: 1, type: 'offer', media, sdp },
      );
      a.offerSent = true;
      a.ringTimer = setTimeout(() => void this.#noAnswer(a), this.#ringTimeoutMs);
      this.port.log('call.offered', { callId: a.callId, devices: devices.length });
    } catch (error) {
      this.#end(a, { reason: 'Call failed', outcome: a.offerSent ? 'failed' : null });
      throw error;
    }
  }

  async accept(media: CallMedia): Promise<void> {
    const a = this.#active;
    if (!a || a.ended || a.direction !== 'incoming' || a.view.state !== 'incoming' || a.offerSdp === null) {
      throw new EngineError('not_found', 'No call is ringing');
    }
    const caller = a.peerDevice as number;
    this.#clearRing(a);
    this.#update(a, { state: 'connecting' });
    a.lostTimer = setTimeout(() => this.#lost(a), CONNECT_TIMEOUT_MS);
    try {
      const local = await this.#capture({ audio: true, video: media === 'video' });
      if (a.ended) {
        stopAll(local);
        return;
      }
      a.local = local;
      const pc = await this.#connect(a);
      await pc.setRemoteDescription({ type: 'offer', sdp: a.offerSdp });
      a.remoteDescribed = true;
      for (const t of pc.getTransceivers()) {
        const kind = t.receiver.track.kind;
        const track = kind === 'audio' ? local.getAudioTracks()[0] : local.getVideoTracks()[0];
        t.direction = 'sendrecv';
        t.sender.setStreams?.(local);
        if (track) await t.sender.replaceTrack(track);
      }
      await pc.setLocalDescription(await pc.createAnswer());
      const sdp = pc.localDescription?.sdp;
      if (!sdp || a.ended) return;
      this.#update(a, { localStream: local, cameraOff: local.getVideoTracks().length === 0 });
      await this.port.send(a.conversationId, a.callId, [{ userId: a.peer.userId, deviceId: caller }], {
        v: 1,
        type: 'answer',
        media,
        sdp,
      });
      a.answerSent = true;
      void this.#tellOwnDevices(a, { v: 1, type: 'handled', outcome: 'accepted' });
      await this.#addRemoteCandidates(a);
      this.#scheduleIce(a);
    } catch (error) {
      void this.#signalPeer(a, { v: 1, type: 'hangup', reason: 'failed' });
      this.#end(a, { reason: 'Call failed', outcome: null });
      throw error;
    }
  }

  async decline(): Promise<void> {
    const a = this.#active;
    if (!a || a.ended || a.direction !== 'incoming' || a.view.state !== 'incoming') return;
    this.#end(a, { reason: 'Declined', outcome: null });
    await Promise.all([
      this.#signalPeer(a, { v: 1, type: 'decline' }),
      this.#tellOwnDevices(a, { v: 1, type: 'handled', outcome: 'declined' }),
    ]);
  }

  async hangUp(): Promise<void> {
    const a = this.#active;
    if (!a || a.ended) return;
    if (a.direction === 'incoming' && a.view.state === 'incoming') {
      await this.decline();
      return;
    }
    if (a.direction === 'outgoing' && a.view.state === 'outgoing') {
      this.#end(a, { reason: 'Cancelled', outcome: 'cancelled' });
      await this.#signalOffered(a, { v: 1, type: 'hangup', reason: 'cancelled' });
      return;
    }
    // Answered but hung up before media flowed: no 0:00 "completed" call.
    this.#end(a, { reason: 'Call ended', outcome: a.connectedAt !== null ? 'completed' : 'cancelled' });
    await this.#signalPeer(a, { v: 1, type: 'hangup', reason: 'ended' });
  }

  setMuted(muted: boolean): void {
    const a = this.#active;
    if (!a || a.ended) return;
    for (const track of a.local?.getAudioTracks() ?? []) track.enabled = !muted;
    this.#update(a, { muted });
  }

  async setCameraOff(off: boolean): Promise<void> {
    const a = this.#active;
    if (!a || a.ended || !a.local) return;
    let camera = a.local.getVideoTracks()[0];
    if (!off && !camera) {
      // A voice call turning the camera on: the video sender is already there (see the file comment).
      camera = (await this.#capture({ video: true })).getVideoTracks()[0];
      if (!camera || a.ended) return;
      a.local = new MediaStream([...a.local.getTracks(), camera]);
      if (!a.screen) await this.#videoSender(a)?.replaceTrack(camera);
    }
    if (camera) camera.enabled = !off;
    this.#update(a, { cameraOff: off, localStream: a.screen ?? a.local });
  }

  async shareScreen(on: boolean): Promise<void> {
    const a = this.#active;
    if (!a || a.ended || !a.pc) return;
    const sender = this.#videoSender(a);
    if (!sender) return;
    if (on) {
      if (a.screen) return;
      const getDisplayMedia =
        this.#media.getDisplayMedia ??
        globalThis.navigator?.mediaDevices?.getDisplayMedia?.bind(navigator.mediaDevices);
      if (!getDisplayMedia) throw new EngineError('unsupported', 'This browser cannot share the screen');
      const screen = await getDisplayMedia({ video: true, audio: false });
      const track = screen.getVideoTracks()[0];
      if (!track || a.ended) {
        stopAll(screen);
        return;
      }
      // The browser's own "Stop sharing" button ends the track: go back to the camera then.
      track.addEventListener('ended', () => void this.shareScreen(false));
      a.screen = screen;
      await sender.replaceTrack(track);
      this.#update(a, { sharingScreen: true, localStream: screen });
    } else {
      if (!a.screen) return;
      stopAll(a.screen);
      a.screen = null;
      await sender.replaceTrack(a.local?.getVideoTracks()[0] ?? null);
      this.#update(a, { sharingScreen: false, localStream: a.local });
    }
  }

  /** Logout or close: the call ends (the peer is told, best effort). */
  dispose(): void {
    if (typeof globalThis.removeEventListener === 'function') {
      globalThis.removeEventListener('pagehide', this.#onPageHide);
    }
    const a = this.#active;
    if (!a) return;
    if (!a.ended) void this.hangUp().catch(() => undefined);
    this.#active = null;
    this.call.value = null;
    this.stats.value = null;
  }

  // ---------------------------------------------------------------- signals from the peer

  /**
   * A decrypted, schema-valid signal from `from`, about `callId` in the (direct) conversation. Returns null when
   * it was applied, else why it was ignored (not the peer, not the call's device, not expected in this state).
   */
  receive(from: DeviceAddress, conversationId: string, callId: string, signal: CallSignal): string | null {
    const refuse = (why: string) => {
      this.port.log('call.signal_ignored', { type: signal.type, why });
      return why;
    };
    if (signal.type === 'offer') {
      const peer = this.port.peerOf(conversationId);
      if (!peer || peer.userId !== from.userId) return refuse('not the peer of a direct conversation');
      if (this.busy) {
        if (this.#active?.callId === callId) return refuse('duplicate offer');
        void this.port
          .send(conversationId, callId, [from], { v: 1, type: 'busy' })
          .catch((error) => this.port.log('call.send_failed', { error: String(error) }));
        return null;
      }
      const a = this.#open({ callId, conversationId, peer, direction: 'incoming', media: signal.media });
      a.peerDevice = from.deviceId;
      a.offerSdp = signal.sdp;
      a.ringTimer = setTimeout(
        () => this.#end(a, { reason: 'Missed call', outcome: null }),
        this.#ringTimeoutMs + CALLEE_GRACE_MS,
      );
      void this.#signalPeer(a, { v: 1, type: 'ringing' });
      return null;
    }
    const a = this.#active;
    if (!a || a.ended || a.callId !== callId || a.conversationId !== conversationId) return refuse('no such call');
    const fromPeer = from.userId === a.peer.userId;
    const fromOffered = fromPeer && a.offeredTo.includes(from.deviceId);
    const fromPeerDevice = fromPeer && from.deviceId === a.peerDevice;
    switch (signal.type) {
      case 'ringing':
        if (a.direction !== 'outgoing' || !fromOffered) return refuse('not a callee device');
        if (!a.view.ringing) this.#update(a, { ringing: true });
        return null;
      case 'answer':
        if (a.direction === 'outgoing' && fromOffered && a.peerDevice !== null && from.deviceId !== a.peerDevice) {
          // Two of the callee's devices answered at once: the first one has the call, this one is let go.
          void this.#sendQuietly(a, [from], { v: 1, type: 'hangup', reason: 'answered_elsewhere' });
          return refuse('another device answered first');
        }
        if (a.direction !== 'outgoing' || a.view.state !== 'outgoing' || !fromOffered) return refuse('unexpected');
        void this.#answered(a, from.deviceId, signal.sdp).catch((error) => {
          this.port.log('call.answer_failed', { error: String(error) });
          void this.#signalPeer(a, { v: 1, type: 'hangup', reason: 'failed' });
          this.#end(a, { reason: 'Call failed', outcome: 'failed' });
        });
        return null;
      case 'ice':
        if (a.direction === 'outgoing' && a.peerDevice === null && fromOffered) {
          // Relayed frames may overtake one another: keep them until this device's answer is in.
          a.earlyRemote.set(from.deviceId, [...(a.earlyRemote.get(from.deviceId) ?? []), ...signal.candidates]);
          return null;
        }
        if (!fromPeerDevice) return refuse('not the call’s device');
        a.pendingRemote.push(...signal.candidates);
        void this.#addRemoteCandidates(a);
        return null;
      case 'decline':
      case 'busy':
        if (a.direction !== 'outgoing' || a.view.state !== 'outgoing' || !fromOffered) return refuse('unexpected');
        this.#end(a, {
          reason: signal.type === 'busy' ? `${a.peer.displayName} is busy` : 'Declined',
          outcome: signal.type === 'busy' ? 'busy' : 'declined',
        });
        // The callee's other devices may still ring.
        void this.#signalOffered(a, { v: 1, type: 'hangup', reason: 'cancelled' }, from.deviceId);
        return null;
      case 'hangup':
        if (a.direction === 'outgoing' && a.view.state === 'outgoing' && fromOffered) {
          // A callee device could not take the call (no microphone...): the others may still answer.
          a.offeredTo = a.offeredTo.filter((d) => d !== from.deviceId);
          if (a.offeredTo.length === 0) this.#end(a, { reason: 'Call failed', outcome: 'failed' });
          return null;
        }
        if (!fromPeerDevice) return refuse('not the call’s device');
        if (a.view.state === 'incoming') {
          this.#end(a, { reason: 'Missed call', outcome: null });
        } else {
          this.#end(a, {
            reason:
              signal.reason === 'failed'
                ? 'Call failed'
                : signal.reason === 'answered_elsewhere'
                  ? 'Answered on another device'
                  : 'Call ended',
            outcome: a.connectedAt !== null ? 'completed' : 'failed',
          });
        }
        return null;
      case 'handled':
        if (from.userId !== this.port.userId || from.deviceId === this.port.deviceId) return refuse('not ours');
        if (a.direction !== 'incoming' || a.view.state !== 'incoming') return refuse('not ringing');
        this.#end(a, {
          reason: signal.outcome === 'accepted' ? 'Answered on another device' : 'Declined on another device',
          outcome: null,
        });
        return null;
    }
  }

  // ---------------------------------------------------------------- internals

  #open(init: Pick<ActiveCall, 'callId' | 'conversationId' | 'peer' | 'direction' | 'media'>): ActiveCall {
    const previous = this.#active;
    if (previous) this.#release(previous);
    const a: ActiveCall = {
      ...init,
      view: {
        callId: init.callId,
        conversationId: init.conversationId,
        peer: init.peer,
        direction: init.direction,
        state: init.direction,
        ringing: false,
        media: init.media,
        muted: false,
        cameraOff: init.media === 'audio',
        sharingScreen: false,
        localStream: null,
        remoteStream: null,
        startedAt: null,
        endedReason: null,
      },
      peerDevice: null,
      offeredTo: [],
      offerSent: false,
      answerSent: false,
      earlyRemote: new Map(),
      offerSdp: null,
      pc: null,
      local: null,
      screen: null,
      remote: null,
      remoteDescribed: false,
      pendingRemote: [],
      pendingLocal: [],
      iceTimer: null,
      ringTimer: null,
      statsTimer: null,
      lostTimer: null,
      lastInbound: null,
      connectedAt: null,
      ended: false,
    };
    this.#active = a;
    this.call.value = a.view;
    this.stats.value = null;
    this.port.log('call.opened', { callId: a.callId, direction: a.direction, media: a.media });
    return a;
  }

  #update(a: ActiveCall, change: Partial<CallView>): void {
    a.view = { ...a.view, ...change };
    if (this.#active === a) this.call.value = a.view;
  }

  async #capture(constraints: MediaStreamConstraints): Promise<MediaStream> {
    const getUserMedia =
      this.#media.getUserMedia ?? globalThis.navigator?.mediaDevices?.getUserMedia?.bind(navigator.mediaDevices);
    if (!getUserMedia) throw new EngineError('unsupported', 'This browser cannot use a microphone or camera');
    try {
      return await getUserMedia(constraints);
    } catch (error) {
      if (constraints.video && constraints.audio) {
        // No camera (or refused): the call goes on with the microphone alone.
        this.port.log('call.camera_unavailable', { error: String(error) });
        return this.#capture({ audio: true });
      }
      throw new EngineError('media_denied', 'The microphone or camera is not available', { cause: error });
    }
  }

  async #connect(a: ActiveCall): Promise<RTCPeerConnection> {
    const PeerConnection = this.#media.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    if (!PeerConnection) throw new EngineError('unsupported', 'This browser has no WebRTC');
    const iceServers = await this.port.iceServers();
    const pc = new PeerConnection({ iceServers });
    a.pc = pc;
    pc.onicecandidate = (event) => {
      const c = event.candidate;
      if (!c?.candidate) return;
      a.pendingLocal.push({
        candidate: c.candidate,
        sdpMid: c.sdpMid,
        sdpMLineIndex: c.sdpMLineIndex,
        usernameFragment: c.usernameFragment,
      });
      this.#scheduleIce(a);
    };
    pc.ontrack = (event) => {
      const tracks = a.remote?.getTracks() ?? [];
      if (tracks.includes(event.track)) return;
      // A new stream object each time, so views that compare by identity see the change.
      a.remote = new MediaStream([...tracks, event.track]);
      this.#update(a, { remoteStream: a.remote });
    };
    pc.onconnectionstatechange = () => {
      if (a.ended) return;
      const state = pc.connectionState;
      this.port.log('call.connection', { callId: a.callId, state });
      if (state === 'connected' && a.connectedAt === null) {
        a.connectedAt = Date.now();
        this.#update(a, { state: 'connected', startedAt: new Date(a.connectedAt).toISOString() });
        a.statsTimer = setInterval(() => void this.#readStats(a), STATS_INTERVAL_MS);
        if (a.lostTimer) clearTimeout(a.lostTimer);
        a.lostTimer = null;
      } else if (state === 'connected' && a.lostTimer) {
        clearTimeout(a.lostTimer);
        a.lostTimer = null;
      } else if (state === 'disconnected' && !a.lostTimer) {
        // Often a blip that ICE recovers from; if not (the peer's tab closed, the network went), give up
        // sooner than the browser's own 'failed' (~30 s).
        a.lostTimer = setTimeout(() => this.#lost(a), DISCONNECTED_GRACE_MS);
      } else if (state === 'failed') {
        this.#lost(a);
      }
    };
    return pc;
  }

  #lost(a: ActiveCall): void {
    if (a.ended) return;
    void this.#signalPeer(a, { v: 1, type: 'hangup', reason: 'failed' });
    this.#end(a, { reason: 'Connection lost', outcome: a.connectedAt !== null ? 'completed' : 'failed' });
  }

  async #answered(a: ActiveCall, deviceId: number, sdp: string): Promise<void> {
    a.peerDevice = deviceId;
    a.pendingRemote.push(...(a.earlyRemote.get(deviceId) ?? []));
    a.earlyRemote.clear();
    this.#clearRing(a);
    this.#update(a, { state: 'connecting' });
    a.lostTimer = setTimeout(() => this.#lost(a), CONNECT_TIMEOUT_MS);
    await a.pc?.setRemoteDescription({ type: 'answer', sdp });
    a.remoteDescribed = true;
    await this.#addRemoteCandidates(a);
    this.#scheduleIce(a);
  }

  async #addRemoteCandidates(a: ActiveCall): Promise<void> {
    if (!a.pc || !a.remoteDescribed) return;
    const batch = a.pendingRemote.splice(0);
    for (const candidate of batch) {
      await a.pc
        .addIceCandidate(candidate)
        .catch((error) => this.port.log('call.bad_candidate', { error: String(error) }));
    }
  }

  /** Local candidates go to the peer's device in small batches, once it is known (the caller: after the answer). */
  #scheduleIce(a: ActiveCall): void {
    if (a.iceTimer || a.ended || a.peerDevice === null || a.pendingLocal.length === 0) return;
    if (a.direction === 'outgoing' && !a.remoteDescribed) return;
    if (a.direction === 'incoming' && !a.answerSent) return;
    a.iceTimer = setTimeout(() => {
      a.iceTimer = null;
      if (a.ended) return;
      while (a.pendingLocal.length > 0) {
        const candidates = a.pendingLocal.splice(0, 20);
        void this.#signalPeer(a, { v: 1, type: 'ice', candidates });
      }
    }, ICE_BATCH_MS);
  }

  async #readStats(a: ActiveCall): Promise<void> {
    if (!a.pc || a.ended) return;
    const report = await a.pc.getStats().catch(() => null);
    if (!report || a.ended) return;
    let inboundAudioBytes = 0;
    let inboundVideoBytes = 0;
    let outboundBytes = 0;
    let roundTripTimeMs: number | null = null;
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp') {
        const bytes = Number(s.bytesReceived ?? 0);
        if (s.kind === 'video') inboundVideoBytes += bytes;
        else inboundAudioBytes += bytes;
      } else if (s.type === 'outbound-rtp') {
        outboundBytes += Number(s.bytesSent ?? 0);
      } else if (s.type === 'candidate-pair' && s.nominated === true && typeof s.currentRoundTripTime === 'number') {
        roundTripTimeMs = Math.round(s.currentRoundTripTime * 1000);
      }
    });
    const inbound = inboundAudioBytes + inboundVideoBytes;
    const rtt = roundTripTimeMs as number | null;
    const quality =
      a.lastInbound === null ? 'unknown' : inbound <= a.lastInbound || (rtt ?? 0) > POOR_RTT_MS ? 'poor' : 'good';
    a.lastInbound = inbound;
    if (this.#active === a)
      this.stats.value = { inboundAudioBytes, inboundVideoBytes, outboundBytes, roundTripTimeMs: rtt, quality };
  }

  async #noAnswer(a: ActiveCall): Promise<void> {
    if (a.ended || a.view.state !== 'outgoing') return;
    this.#end(a, { reason: 'No answer', outcome: 'missed' });
    await this.#signalOffered(a, { v: 1, type: 'hangup', reason: 'timeout' });
  }

  /**
   * The call is over here: media and timers stop, the caller writes the call event (`outcome`, when the offer
   * went out), and the ended call stays visible for a moment.
   */
  #end(a: ActiveCall, result: { reason: string; outcome: CallOutcome | null }): void {
    if (a.ended) return;
    a.ended = true;
    this.#release(a);
    const durationSeconds = a.connectedAt === null ? 0 : Math.round((Date.now() - a.connectedAt) / 1000);
    this.#update(a, { state: 'ended', endedReason: result.reason, localStream: null, remoteStream: null });
    if (this.#active === a) this.stats.value = null;
    this.port.log('call.ended', { callId: a.callId, reason: result.reason, outcome: result.outcome });
    if (a.direction === 'outgoing' && a.offerSent && result.outcome) {
      void this.port
        .record(a.conversationId, { callId: a.callId, media: a.media, outcome: result.outcome, durationSeconds })
        .catch((error) => this.port.log('call.record_failed', { error: String(error) }));
    }
    setTimeout(() => {
      if (this.#active !== a) return;
      this.#active = null;
      this.call.value = null;
    }, ENDED_LINGER_MS);
  }

  #release(a: ActiveCall): void {
    this.#clearRing(a);
    if (a.iceTimer) clearTimeout(a.iceTimer);
    if (a.statsTimer) clearInterval(a.statsTimer);
    if (a.lostTimer) clearTimeout(a.lostTimer);
    a.lostTimer = null;
    a.iceTimer = null;
    a.statsTimer = null;
    a.pc?.close();
    if (a.local) stopAll(a.local);
    if (a.screen) stopAll(a.screen);
  }

  #clearRing(a: ActiveCall): void {
    if (a.ringTimer) clearTimeout(a.ringTimer);
    a.ringTimer = null;
  }

  #videoSender(a: ActiveCall): RTCRtpSender | null {
    return a.pc?.getTransceivers().find((t) => t.receiver.track.kind === 'video')?.sender ?? null;
  }

  async #signalPeer(a: ActiveCall, signal: CallSignal): Promise<void> {
    if (a.peerDevice === null) return;
    await this.#sendQuietly(a, [{ userId: a.peer.userId, deviceId: a.peerDevice }], signal);
  }

  /** To every callee device the offer went to (but `except`). */
  async #signalOffered(a: ActiveCall, signal: CallSignal, except?: number): Promise<void> {
    const to = a.offeredTo.filter((d) => d !== except).map((deviceId) => ({ userId: a.peer.userId, deviceId }));
    if (to.length > 0) await this.#sendQuietly(a, to, signal);
  }

  async #tellOwnDevices(a: ActiveCall, signal: CallSignal): Promise<void> {
    const mine = await this.port.devicesOf(this.port.userId).catch(() => []);
    const to = mine.filter((d) => d !== this.port.deviceId).map((deviceId) => ({ userId: this.port.userId, deviceId }));
    if (to.length > 0) await this.#sendQuietly(a, to, signal);
  }

  async #sendQuietly(a: ActiveCall, to: readonly DeviceAddress[], signal: CallSignal): Promise<void> {
    try {
      await this.port.send(a.conversationId, a.callId, to, signal);
    } catch (error) {
      this.port.log('call.send_failed', { type: signal.type, error: String(error) });
    }
  }
}

function stopAll(stream: MediaStream): void {
  for (const track of stream.getTracks()) track.stop();
}
