/**
 * Stand-ins for WebRTC and media capture in Node (no RTCPeerConnection, no MediaStream there): enough for the
 * call state machine, which only needs transceivers, descriptions, candidates, a connection state and stats.
 * `FakePc.connect()` plays "ICE and DTLS done". Install `FakeStream` as the global `MediaStream` in tests.
 */
import type { CallMediaDeps } from '../../src/engine/types.ts';

export class FakeTrack {
  enabled = true;
  stopped = false;
  constructor(readonly kind: string) {}
  stop() {
    this.stopped = true;
  }
  addEventListener() {}
}

export class FakeStream {
  readonly tracks: FakeTrack[];
  constructor(tracks: FakeTrack[] = []) {
    this.tracks = [...tracks];
  }
  getTracks() {
    return this.tracks;
  }
  getAudioTracks() {
    return this.tracks.filter((t) => t.kind === 'audio');
  }
  getVideoTracks() {
    return this.tracks.filter((t) => t.kind === 'video');
  }
}

export class FakePc {
  static all: FakePc[] = [];
  onicecandidate: ((e: unknown) => void) | null = null;
  ontrack: ((e: unknown) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  connectionState = 'new';
  localDescription: { type: string; sdp: string } | null = null;
  remote: { type: string; sdp: string } | null = null;
  added: unknown[] = [];
  closed = false;
  readonly transceivers: {
    direction: string;
    receiver: { track: { kind: string } };
    sender: { track: unknown; replaceTrack(t: unknown): Promise<void>; setStreams(): void };
  }[] = [];
  constructor() {
    FakePc.all.push(this);
  }
  addTransceiver(trackOrKind: FakeTrack | string, init: { direction: string }) {
    const kind = typeof trackOrKind === 'string' ? trackOrKind : trackOrKind.kind;
    const sender: { track: unknown; replaceTrack(t: unknown): Promise<void>; setStreams(): void } = {
      track: typeof trackOrKind === 'string' ? null : trackOrKind,
      async replaceTrack(t: unknown) {
        sender.track = t;
      },
      setStreams() {},
    };
    this.transceivers.push({ direction: init.direction, receiver: { track: { kind } }, sender });
  }
  getTransceivers() {
    return this.transceivers;
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 offer a=fingerprint:sha-256 AA' };
  }
  async createAnswer() {
    return { type: 'answer', sdp: 'v=0 answer a=fingerprint:sha-256 BB' };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    queueMicrotask(() =>
      this.onicecandidate?.({
        candidate: {
          candidate: `candidate:1 1 udp 1 192.0.2.2 ${d.type === 'offer' ? 5000 : 6000} typ host`,
          sdpMid: '0',
          sdpMLineIndex: 0,
          usernameFragment: 'u',
        },
      }),
    );
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remote = d;
    if (d.type === 'offer') {
      this.addTransceiver('audio', { direction: 'recvonly' });
      this.addTransceiver('video', { direction: 'recvonly' });
    }
  }
  async addIceCandidate(c: unknown) {
    this.added.push(c);
  }
  async getStats() {
    return new Map([['in', { type: 'inbound-rtp', kind: 'video', bytesReceived: 1000 }]]);
  }
  close() {
    this.closed = true;
  }
  /** ICE and DTLS done. */
  connect() {
    this.connectionState = 'connected';
    this.onconnectionstatechange?.();
  }
}

export const fakeMedia: CallMediaDeps = {
  RTCPeerConnection: FakePc as unknown as typeof RTCPeerConnection,
  getUserMedia: async (c) =>
    new FakeStream([
      ...(c.audio ? [new FakeTrack('audio')] : []),
      ...(c.video ? [new FakeTrack('video')] : []),
    ]) as unknown as MediaStream,
};
