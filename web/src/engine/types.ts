/**
 * The engine's public face: what the UI reads (signals) and calls (async actions). The UI imports only this
 * file and `createEngine` from `./index.ts`; everything that touches keys lives behind a dynamic `import()`
 * so libsodium is not in the first-paint bundle.
 *
 * Conventions:
 * - Signals are read-only for the UI; actions change state and the signals follow.
 * - Actions reject with an {@link EngineError} (`code` is stable, `message` is for people).
 * - Times are ISO-8601 strings.
 */
import type { ReadonlySignal } from '@preact/signals';

/** The minimal WebSocket the engine needs: the browser's, or `ws` in Node tests. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface EngineConfig {
  /** REST base URL, e.g. `http://localhost:3000` (runtime /config.json). */
  readonly apiUrl: string;
  /** WebSocket URL, e.g. `ws://localhost:3001/local` (runtime /config.json). */
  readonly wsUrl: string;
  /** Defaults to `globalThis.fetch`; must send and keep the refresh cookie (`credentials: 'include'` in browsers). */
  readonly fetch?: typeof fetch;
  /** Defaults to `globalThis.WebSocket`. */
  readonly WebSocket?: WebSocketConstructor;
  /** Defaults to `globalThis.indexedDB`. */
  readonly indexedDB?: IDBFactory;
  /** Prefix of this engine's IndexedDB database names (one database per user: `<prefix><userId>`). */
  readonly dbPrefix?: string;
  /** The name this browser's device gets when it registers (default: from the user agent). */
  readonly deviceName?: string;
  /** Diagnostics hook (tests, dev console). Never receives keys or plaintext. */
  readonly log?: (event: string, detail?: Record<string, unknown>) => void;
  /** Calls: how long an outgoing call rings before it counts as missed (default 45 s; tests shorten it). */
  readonly callRingTimeoutMs?: number;
  /** Calls: WebRTC and media capture, defaulting to the browser's (tests inject fakes). */
  readonly media?: CallMediaDeps;
}

export type SessionStatus = 'signed-out' | 'starting' | 'ready';
export type ConnectionState = 'offline' | 'connecting' | 'online';

export interface Me {
  readonly id: string;
  readonly email: string;
  readonly displayName: string;
  readonly createdAt: string;
}

export interface DeviceView {
  readonly deviceId: number;
  readonly name: string;
  readonly createdAt: string;
  readonly lastSeenAt: string;
  /** This browser's device. */
  readonly current: boolean;
  readonly preKeysRemaining: number;
}

export interface UserSummaryView {
  readonly id: string;
  readonly displayName: string;
  /** Only when the query was the user's whole email address. */
  readonly email?: string;
}

export type MemberRole = 'owner' | 'admin' | 'member';
export type PresenceState = 'online' | 'offline' | 'unknown';

export interface MemberView {
  readonly userId: string;
  readonly displayName: string;
  readonly role: MemberRole;
  readonly joinedAt: string;
  readonly presence: PresenceState;
  readonly lastSeenAt: string | null;
}

export interface LastMessagePreview {
  readonly senderId: string;
  readonly senderName: string;
  /** Decrypted text, or a short description ("Message deleted", "Could not decrypt"). */
  readonly text: string;
  readonly at: string;
}

export interface ConversationView {
  readonly id: string;
  readonly kind: 'direct' | 'group';
  /** Group name; for a direct conversation the peer's display name. */
  readonly title: string;
  /** The group's own name (null for direct conversations). */
  readonly name: string | null;
  readonly members: readonly MemberView[];
  /** The caller's role. */
  readonly myRole: MemberRole;
  readonly unreadCount: number;
  readonly lastActivityAt: string;
  readonly lastSeq: number;
  readonly lastMessage: LastMessagePreview | null;
  /** Direct conversations: the other member (with presence); null for groups. */
  readonly peer: MemberView | null;
}

/** Sending state of one's own messages; others' messages are `sent`... once they are here. */
export type MessageState = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** Why a message could not be decrypted, for the user; `recovering` while a resend was asked for. */
export interface DecryptErrorView {
  readonly code:
    | 'no_session'
    | 'untrusted_identity'
    | 'invalid_message'
    | 'duplicate'
    | 'no_sender_key'
    | 'bad_content'
    | 'unknown';
  readonly reason: string;
  readonly recovering: boolean;
}

/** Names a message for edit, delete, react and replies: every MessageView is one. */
export interface MessageRef {
  readonly conversationId: string;
  /** The end-to-end message id chosen by the sender (inside the ciphertext). */
  readonly contentId: string;
}

export interface ReactionView {
  readonly emoji: string;
  readonly userIds: readonly string[];
  /** The caller reacted with this emoji (react() again to take it back). */
  readonly mine: boolean;
}

export interface ReplyPreview {
  readonly contentId: string;
  readonly senderId: string | null;
  readonly senderName: string;
  /** A short excerpt, or '' when the original is not in this device's history. */
  readonly text: string;
}

/** A file in a message (its key and digest stay inside the engine). */
export interface AttachmentView {
  /** Position in the message: with the message's ref it names the file (`transferKey`). */
  readonly index: number;
  readonly name: string;
  /** The MIME type the sender declared. */
  readonly type: string;
  /** Plaintext bytes. */
  readonly size: number;
  readonly width: number | null;
  readonly height: number | null;
  readonly durationSeconds: number | null;
  readonly hasThumbnail: boolean;
  /**
   * How it may be shown: `image` (JPEG, PNG, WebP, GIF: inline), `video` (played), `file` (saved). Other types,
   * SVG and HTML among them, are only ever saved: an object URL shares the app's origin.
   */
  readonly display: 'image' | 'video' | 'file';
  /** Still uploading (one's own local echo); no download possible yet. */
  readonly uploading: boolean;
}

/** One upload or download (`Engine.transfers`, by `transferKey`). */
export interface TransferView {
  readonly direction: 'upload' | 'download';
  /** Bytes moved so far, of `total` (ciphertext bytes; 0 of 0 while encrypting). */
  readonly loaded: number;
  readonly total: number;
  readonly state: 'active' | 'done' | 'failed' | 'cancelled';
  /** Why it failed, for people. */
  readonly error: string | null;
  /** When done: an object URL of the decrypted file (or, for one's own uploads, of the original). */
  readonly url: string | null;
}

export interface MessageView extends MessageRef {
  readonly kind: 'message';
  /** `conversationId:seq`, or `conversationId:pending:contentId` until the server stored it. */
  readonly id: string;
  readonly seq: number | null;
  readonly senderId: string;
  readonly senderName: string;
  readonly senderDeviceId: number;
  readonly mine: boolean;
  /** Server time when stored (local time while sending). */
  readonly at: string;
  /** Empty when deleted or not decrypted. */
  readonly text: string;
  readonly replyTo: ReplyPreview | null;
  readonly reactions: readonly ReactionView[];
  readonly edited: boolean;
  readonly deleted: boolean;
  readonly state: MessageState;
  readonly decryptError: DecryptErrorView | null;
  /** A call event ("Video call · 2:13", "Missed voice call"); `text` holds its wording. */
  readonly call: CallEventView | null;
  /** Files sent with the message (empty for most). */
  readonly attachments: readonly AttachmentView[];
}

export interface SystemItemView {
  readonly kind: 'system';
  /** `conversationId:seq`. */
  readonly id: string;
  readonly conversationId: string;
  readonly seq: number;
  readonly at: string;
  /** Rendered for people, e.g. "Ada added Bob". */
  readonly text: string;
}

export type TimelineItem = MessageView | SystemItemView;

export interface TimelineView {
  /** Oldest first. */
  readonly items: readonly TimelineItem[];
  /** More history can be loaded with `loadOlder`. */
  readonly hasOlder: boolean;
  readonly loadingOlder: boolean;
}

export interface SafetyNumberView {
  readonly userId: string;
  /** 60 digits. */
  readonly digits: string;
  /** The same digits in twelve groups of five. */
  readonly groups: readonly string[];
  /** The scannable fingerprint (libsignal's CombinedFingerprints bytes), base64: encode it as a QR code. */
  readonly qrPayload: string;
  readonly verified: boolean;
  /** The contact's identity keys changed since first seen (or since last verified/acknowledged). */
  readonly identityChanged: boolean;
  /**
   * Per device of the contact, how this device's current session with it was agreed: 'pqxdh' (post-quantum
   * key agreement), 'x3dh' (classical, from a device without ML-KEM prekeys), 'none' (no session yet).
   */
  readonly sessions: readonly { readonly deviceId: number; readonly kind: 'pqxdh' | 'x3dh' | 'none' }[];
}

export interface TrustView {
  readonly verified: boolean;
  readonly identityChanged: boolean;
}

export interface SearchHit {
  readonly conversationId: string;
  readonly contentId: string;
  readonly seq: number | null;
  readonly senderName: string;
  /** A piece of the text around the first match. */
  readonly snippet: string;
  readonly at: string;
}

export interface Engine {
  // --- session ---
  readonly me: ReadonlySignal<Me | null>;
  readonly status: ReadonlySignal<SessionStatus>;
  readonly connection: ReadonlySignal<ConnectionState>;
  /** The last background problem worth showing (failed start, revoked device...), null when none. */
  readonly problem: ReadonlySignal<string | null>;
  /** Tries to resume a session with the refresh cookie (call once at app start). */
  resume(): Promise<void>;
  register(input: { email: string; password: string; displayName: string }): Promise<void>;
  login(input: { email: string; password: string }): Promise<void>;
  logout(): Promise<void>;
  logoutAll(): Promise<void>;
  requestPasswordReset(email: string): Promise<void>;
  confirmPasswordReset(token: string, newPassword: string): Promise<void>;
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  updateDisplayName(displayName: string): Promise<void>;
  /** Closes sockets and databases without logging out (tests, page unload). */
  close(): Promise<void>;

  // --- devices ---
  readonly devices: ReadonlySignal<readonly DeviceView[]>;
  refreshDevices(): Promise<void>;
  revokeDevice(deviceId: number): Promise<void>;

  // --- directory ---
  searchUsers(query: string): Promise<readonly UserSummaryView[]>;

  // --- conversations ---
  readonly conversations: ReadonlySignal<readonly ConversationView[]>;
  refreshConversations(): Promise<void>;
  /** Resolves to the conversation id (the existing one when the pair already has one). */
  createDirect(userId: string): Promise<string>;
  createGroup(name: string, memberIds: readonly string[]): Promise<string>;
  rename(conversationId: string, name: string): Promise<void>;
  addMembers(conversationId: string, userIds: readonly string[]): Promise<void>;
  removeMember(conversationId: string, userId: string): Promise<void>;
  changeRole(conversationId: string, userId: string, role: MemberRole): Promise<void>;
  leave(conversationId: string): Promise<void>;

  // --- timeline ---
  timeline(conversationId: string): ReadonlySignal<TimelineView>;
  loadOlder(conversationId: string): Promise<void>;
  /** Users (ids) typing in the conversation now; entries expire ~6 s after the last notice. */
  typingIn(conversationId: string): ReadonlySignal<readonly string[]>;
  /** Call on input (true) and on send/blur (false); the engine throttles the frames. */
  setTyping(conversationId: string, typing: boolean): void;
  /** Fetches what the server holds for this device now (runs by itself on start and on every reconnect). */
  refresh(): Promise<void>;
  /** The user sees the conversation: moves the read marker, sends the read receipt. */
  markRead(conversationId: string): Promise<void>;

  // --- messages (all end-to-end encrypted) ---
  /** Queues the message (persistent outbox) and resolves with its ref once queued, not once sent. */
  send(conversationId: string, text: string, options?: { replyTo?: MessageRef }): Promise<MessageRef>;
  edit(message: MessageRef, text: string): Promise<void>;
  deleteForEveryone(message: MessageRef): Promise<void>;
  /** Toggles the caller's reaction with `emoji` on the message. */
  react(message: MessageRef, emoji: string): Promise<void>;
  /** Sends a `failed` message again. */
  retry(message: MessageRef): Promise<void>;

  // --- attachments (end-to-end encrypted files; see engine/README.md) ---
  /** Uploads and downloads by `transferKey(message, index, thumbnail?)`: progress, state, object URL. */
  readonly transfers: ReadonlySignal<Readonly<Record<string, TransferView>>>;
  /**
   * Shows the message at once (uploading), encrypts and uploads the files (and thumbnails of images and videos),
   * then queues it. Resolves with its ref as soon as it is shown; a failure shows on the message.
   */
  sendFiles(conversationId: string, files: readonly File[], text?: string): Promise<MessageRef>;
  /** Stops a message's uploads; the message is never sent. Also removes a message whose upload failed. */
  cancelUpload(message: MessageRef): Promise<void>;
  /** Downloads, verifies and decrypts one file; resolves with an object URL (cached for the session). */
  download(message: MessageRef, index: number): Promise<string>;
  /** The file's thumbnail (downloaded once, cached for the session), or null when it has none. */
  thumbnail(message: MessageRef, index: number): Promise<string | null>;
  cancelDownload(message: MessageRef, index: number): void;

  // --- avatars (end-to-end encrypted pictures) ---
  /** Object URLs of the latest pictures, by user id (people) and by conversation id (groups). */
  readonly avatars: ReadonlySignal<Readonly<Record<string, string>>>;
  /** Sets (or, with null, removes) the caller's picture in every conversation they are in. */
  setMyAvatar(file: File | null): Promise<void>;
  /** Sets (or removes) a group's picture. */
  setGroupAvatar(conversationId: string, file: File | null): Promise<void>;

  // --- safety numbers ---
  /** Per-user trust state, for warnings in lists and headers. */
  readonly trust: ReadonlySignal<Readonly<Record<string, TrustView>>>;
  safetyNumber(userId: string): Promise<SafetyNumberView>;
  /** Checks a scanned QR payload (base64) against ours. */
  compareScanned(userId: string, scannedBase64: string): Promise<boolean>;
  markVerified(userId: string, verified?: boolean): Promise<void>;
  /** The user has seen the identity-change warning (keeps `verified` false). */
  acknowledgeIdentityChange(userId: string): Promise<void>;

  // --- search (local, over decrypted history) ---
  search(query: string): Promise<readonly SearchHit[]>;

  // --- calls (one-to-one, direct conversations; signalling end-to-end encrypted) ---
  /** The call in progress, ringing or just ended (cleared a moment after it ends); null when none. */
  readonly call: ReadonlySignal<CallView | null>;
  /** Transport statistics of the connected call, read about once a second. */
  readonly callStats: ReadonlySignal<CallStatsView | null>;
  /** Calls the peer of a direct conversation; rejects with `busy` when a call is already going on. */
  startCall(conversationId: string, media: CallMedia): Promise<void>;
  /** Answers the ringing incoming call, with the camera on or off (`audio`). */
  acceptCall(media: CallMedia): Promise<void>;
  declineCall(): Promise<void>;
  /** Ends the current call (cancels it while ringing). */
  hangUp(): Promise<void>;
  setMuted(muted: boolean): void;
  setCameraOff(off: boolean): Promise<void>;
  /** Shares the screen in place of the camera (`getDisplayMedia`), or goes back to the camera. */
  shareScreen(on: boolean): Promise<void>;
}

// --- calls ---

export type CallMedia = 'audio' | 'video';
export type CallDirection = 'outgoing' | 'incoming';
/** outgoing/incoming: ringing; connecting: answered, media not flowing yet; connected; ended (briefly shown). */
export type CallState = 'outgoing' | 'incoming' | 'connecting' | 'connected' | 'ended';
export type CallOutcome = 'completed' | 'missed' | 'declined' | 'busy' | 'cancelled' | 'failed';

export interface CallView {
  readonly callId: string;
  readonly conversationId: string;
  readonly peer: { readonly userId: string; readonly displayName: string };
  readonly direction: CallDirection;
  readonly state: CallState;
  /** Outgoing: at least one of the peer's devices rings. */
  readonly ringing: boolean;
  /** What the caller offered. */
  readonly media: CallMedia;
  readonly muted: boolean;
  readonly cameraOff: boolean;
  readonly sharingScreen: boolean;
  readonly localStream: MediaStream | null;
  readonly remoteStream: MediaStream | null;
  /** When media started flowing (connected). */
  readonly startedAt: string | null;
  /** Why it ended, for people ("Call ended", "Declined", "Answered on another device"...). */
  readonly endedReason: string | null;
}

export interface CallStatsView {
  readonly inboundAudioBytes: number;
  readonly inboundVideoBytes: number;
  readonly outboundBytes: number;
  readonly roundTripTimeMs: number | null;
  /** `poor` when the round trip is long or nothing arrived since the last reading. */
  readonly quality: 'good' | 'poor' | 'unknown';
}

/** The call event item in a conversation (sent by the caller when the call is over). */
export interface CallEventView {
  readonly callId: string;
  readonly media: CallMedia;
  readonly outcome: CallOutcome;
  readonly durationSeconds: number;
}

export interface CallMediaDeps {
  readonly RTCPeerConnection?: typeof RTCPeerConnection;
  getUserMedia?(constraints: MediaStreamConstraints): Promise<MediaStream>;
  getDisplayMedia?(constraints: DisplayMediaStreamOptions): Promise<MediaStream>;
}
