/**
 * The engine's core, loaded with a dynamic `import()` after sign-in (it pulls in libsodium and the protocol
 * schemas): this device's keys, the local encrypted-messaging state in IndexedDB, sending through the
 * persistent outbox, receiving (WebSocket entries, `/sync`, timeline gap-fill) in one ordered queue, decrypt
 * failures and their recovery, receipts, typing, presence, safety numbers and local search.
 */
import {
  CryptoErrorCode,
  createSenderKeyDistributionMessage,
  Fingerprint,
  generatePreKeys,
  groupDecrypt,
  groupEncrypt,
  IdentityKey,
  IdentityKeyPair,
  initCrypto,
  isCryptoError,
  MessageType,
  messageType,
  PreKeyBundle,
  ProtocolAddress,
  PublicKey,
  processSenderKeyDistributionMessage,
  rotateSenderKey,
  SessionCipher,
  SignedPreKeyRecord,
} from '@ciphertalk/shared/crypto';
import type {
  Conversation,
  ConversationListResponse,
  ConversationResponse,
  DeviceListResponse,
  Envelope,
  MeResponse,
  PreKeyBundle as PreKeyBundleJson,
  PreKeyBundleResponse,
  PresenceResponse,
  PublicDevice,
  PublicDeviceListResponse,
  SendMessageRequest,
  SendMessageResponse,
  ServerFrame,
  SyncResponse,
  TimelineEntry,
  TimelineResponse,
  UserProfileResponse,
} from '@ciphertalk/shared/protocol';
import {
  IceServersResponse as IceServersResponseSchema,
  SyncResponse as SyncResponseSchema,
  TimelineResponse as TimelineResponseSchema,
} from '@ciphertalk/shared/protocol';
import type { AttachmentRef } from './attachment-content.ts';
import {
  AttachmentTransport,
  attachmentSummary,
  attachmentView,
  displayOf,
  type StoredAttachment,
  safeName,
  safeType,
  storedOf,
  TransferBoard,
  uploadFiles,
} from './attachments.ts';
import { Avatars } from './avatars.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { callEventText } from './call-format.ts';
import { type CallSignal, decodeCallSignal, encodeCallSignal } from './call-signal.ts';
import { CallManager, type CallPort, type DeviceAddress } from './calls.ts';
import { type Content, decodeContent, encodeContent, MAX_TEXT_LENGTH } from './content.ts';
import { EngineError, isEngineError } from './errors.ts';
import type { Api } from './http.ts';
import { Idb, STORES } from './idb.ts';
import { type DeviceStores, idbStores } from './keystore.ts';
import {
  maintainPqPreKeys,
  pqBundleFields,
  pqRegistration,
  rememberPostQuantumDevices,
  sessionKinds,
  startSession,
} from './pq-keys.ts';
import { snippet, tokenize } from './search-terms.ts';
import { Socket } from './socket.ts';
import { EMPTY_TIMELINE, type EngineState, timelineSignal, typingSignal } from './state.ts';
import { systemText } from './system-text.ts';
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE, transferKey } from './transfers.ts';
import type {
  CallEventView,
  ConversationView,
  DecryptErrorView,
  EngineConfig,
  MemberRole,
  MemberView,
  MessageRef,
  MessageState,
  MessageView,
  SafetyNumberView,
  SearchHit,
  TimelineItem,
  TrustView,
  WebSocketConstructor,
} from './types.ts';

const PREKEY_BATCH = 100;
const PREKEY_LOW_WATER = 25;
const PAGE = 50;
const TYPING_TTL_MS = 6000;
const TYPING_THROTTLE_MS = 3000;
const SEND_ATTEMPTS = 4;
/** API Gateway refuses WebSocket frames over 32 KB: bigger messages go over REST. */
const WS_SEND_MAX_CHARS = 30_000;

interface LocalDevice {
  deviceId: number | null;
  identity: Uint8Array;
  registrationId: number;
  nextPreKeyId: number;
  signedPreKeyId: number;
}

/** A timeline item as stored in IndexedDB. */
interface ItemRecord {
  /** `conversationId|contentId` for messages, `conversationId|#seq` for system events and undecryptable ones. */
  key: string;
  conversationId: string;
  contentId: string | null;
  seq: number | null;
  kind: 'message' | 'system';
  senderId: string | null;
  senderDeviceId: number;
  at: string;
  /** Local clock, to order messages that have no seq yet. */
  localTime: number;
  text: string;
  replyTo: { contentId: string; senderId: string | null; excerpt: string } | null;
  reactions: Record<string, string[]>;
  edited: boolean;
  deleted: boolean;
  state: MessageState;
  decryptError: DecryptErrorView | null;
  /** A call event (`text` holds its wording); absent on other items. */
  call?: CallEventView | null;
  /** Search terms this item is indexed under. */
  terms: string[];
  /** Files (absent in items stored before attachments existed). */
  attachments?: StoredAttachment[];
}

interface OutboxRecord {
  contentId: string;
  conversationId: string;
  clientMessageId: string;
  content: Content;
  queuedAt: number;
  /** The uploads the message references, named in clear for the server's checks. */
  attachmentIds?: string[];
}

interface TrustRecord {
  /** `deviceId:identityKeyB64`, sorted. */
  keys: string[];
  verifiedKeys: string[] | null;
  changed: boolean;
}

interface GroupRecord {
  /** Device addresses (`userId.deviceId`) holding our current sender key. */
  distributedTo: string[];
}

const STATE_RANK: Record<MessageState, number> = { failed: -1, sending: 0, sent: 1, delivered: 2, read: 3 };

export interface CoreDeps {
  api: Api;
  config: EngineConfig;
  state: EngineState;
  userId: string;
  log: (event: string, detail?: Record<string, unknown>) => void;
  /** The session is gone (device revoked elsewhere...). */
  onSignedOut: () => void;
}

const randomUuid = () => globalThis.crypto.randomUUID();

export async function startCore(deps: CoreDeps): Promise<Core> {
  await initCrypto();
  const core = new Core(deps);
  try {
    await core.start();
  } catch (error) {
    await core.close().catch(() => undefined);
    throw error;
  }
  return core;
}

export function dbName(config: EngineConfig, userId: string): string {
  return `${config.dbPrefix ?? 'ciphertalk-'}${userId}`;
}

export class Core {
  readonly #api: Api;
  readonly #config: EngineConfig;
  readonly #state: EngineState;
  readonly #userId: string;
  readonly #log: CoreDeps['log'];
  readonly #factory: IDBFactory;
  #db!: Idb;
  #stores!: DeviceStores;
  #device!: LocalDevice & { deviceId: number };
  #me!: ProtocolAddress;
  #socket: Socket | null = null;
  #closed = false;

  readonly #items = new Map<string, Map<string, ItemRecord>>();
  readonly #windows = new Map<string, number>();
  readonly #serverConvs = new Map<string, Conversation>();
  readonly #names = new Map<string, string>();
  readonly #presence = new Map<string, { status: 'online' | 'offline'; lastSeenAt: string | null }>();
  readonly #readMarkers = new Map<string, number>();
  readonly #deviceCache = new Map<string, PublicDevice[]>();
  readonly #typingTimers = new Map<string, Map<string, ReturnType<typeof setTimeout>>>();
  readonly #typingSent = new Map<string, number>();
  readonly #resendAsked = new Set<string>();
  readonly #oldestReached = new Set<string>();
  readonly #olderCursor = new Map<string, number>();
  readonly #groupLocks = new Map<string, Promise<unknown>>();
  #lastQueuedAt = 0;
  readonly #pendingAcks: { conversationId: string; seq: number }[] = [];
  #queue: Promise<unknown> = Promise.resolve();
  #flushing: Promise<void> | null = null;
  #flushAgain = false;
  #catchingUp: Promise<void> | null = null;
  #catchUpAgain = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #refreshConvTimer: ReturnType<typeof setTimeout> | null = null;
  #calls: CallManager | null = null;
  #iceCache: { servers: RTCIceServer[]; until: number } | null = null;
  readonly #transfers: TransferBoard;
  readonly #transport: AttachmentTransport;
  /** Uploads of messages not yet queued, by item key. */
  readonly #uploads = new Map<string, AbortController>();
  /** The files of uploads that failed, by item key, kept (in memory only) so that "Try again" can send them. */
  readonly #failedUploads = new Map<string, readonly File[]>();
  #avatars: Avatars | null = null;

  constructor(deps: CoreDeps) {
    this.#api = deps.api;
    this.#config = deps.config;
    this.#state = deps.state;
    this.#userId = deps.userId;
    this.#log = deps.log;
    const factory = deps.config.indexedDB ?? globalThis.indexedDB;
    if (!factory) throw new EngineError('unsupported', 'This browser has no IndexedDB');
    this.#factory = factory;
    this.#transfers = new TransferBoard(deps.state);
    this.#transport = new AttachmentTransport(deps.api, deps.config.fetch ?? globalThis.fetch.bind(globalThis));
  }

  get deviceId(): number {
    return this.#device.deviceId;
  }

  // ---------------------------------------------------------------- start, device, close

  async start(): Promise<void> {
    await this.#holdDeviceLock();
    this.#db = await Idb.open(this.#factory, dbName(this.#config, this.#userId));
    await this.#ensureDevice();
    this.#stores = idbStores(this.#db, IdentityKeyPair.deserialize(this.#device.identity), this.#device.registrationId);
    this.#me = ProtocolAddress.of(this.#userId, this.#device.deviceId);
    await this.#loadLocal();
    this.#avatars = new Avatars(this.#db, this.#state, this.#transport, this.#log);
    await this.#avatars.load().catch((error) => this.#log('avatars.load_failed', { error: String(error) }));
    await this.refreshConversations();
    await this.refreshDevices().catch((error) => this.#log('devices.refresh_failed', { error: String(error) }));
    await this.#topUpPreKeys().catch((error) => this.#log('prekeys.topup_failed', { error: String(error) }));
    await this.#rotateSignedPreKeyIfStale().catch((error) =>
      this.#log('signed_prekey.rotation_failed', { error: String(error) }),
    );
    this.#calls = new CallManager(this.#callPort(), this.#state.call, this.#state.callStats, this.#config);
    const WS = this.#config.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor | undefined);
    if (WS) {
      this.#socket = new Socket({
        url: this.#config.wsUrl,
        WebSocket: WS,
        ticket: async () => (await this.#api.post<{ ticket: string }>('/auth/ws-ticket')).ticket,
        onFrame: (frame) => this.#onFrame(frame),
        onOpen: () => {
          void this.catchUp();
          void this.flush();
        },
        onState: (state) => {
          this.#state.connection.value = state;
        },
        log: this.#log,
      });
      this.#socket.start();
    }
    // Browsers tell when the network is back: reconnect and send at once instead of waiting for the backoff.
    if (typeof globalThis.addEventListener === 'function') {
      globalThis.addEventListener('online', this.#onOnline);
    }
    await this.catchUp();
    void this.flush();
    // The conversation list shows the peer's presence: ask once for the most recent direct conversations.
    const direct = [...this.#serverConvs.values()].filter((c) => c.kind === 'direct').slice(0, 20);
    for (const conv of direct) {
      this.#presenceAsked.add(conv.id);
      void this.presenceOf(conv.id);
    }
  }

  #releaseDeviceLock: (() => void) | null = null;

  /**
   * One tab at a time runs the engine for a user: two would race on the same ratchet states in IndexedDB.
   * (Web Locks where the browser has them; the lock is held until close.)
   */
  async #holdDeviceLock(): Promise<void> {
    const locks = (
      globalThis.navigator as
        | {
            locks?: {
              request(
                name: string,
                options: { ifAvailable: boolean },
                callback: (lock: unknown) => Promise<void>,
              ): Promise<void>;
            };
          }
        | undefined
    )?.locks;
    if (!locks) return;
    await new Promise<void>((acquired, refused) => {
      void locks.request(`ciphertalk-device-${this.#userId}`, { ifAvailable: true }, (lock) => {
        if (lock === null) {
          refused(new EngineError('other_tab', 'CipherTalk is already open in another tab of this browser'));
          return Promise.resolve();
        }
        acquired();
        return new Promise<void>((release) => {
          this.#releaseDeviceLock = release;
        });
      });
    });
  }

  /** This browser's device: keys from IndexedDB, registered with the server on first use. */
  async #ensureDevice(): Promise<void> {
    const me = await this.#api.get<MeResponse>('/me');
    let local = await this.#db.get<LocalDevice>(STORES.meta, 'device');
    const sessionDevice = me.session.deviceId;
    if (sessionDevice !== null) {
      if (local?.deviceId === sessionDevice) {
        this.#device = { ...local, deviceId: sessionDevice };
        return;
      }
      // The session has a device whose keys are not here: it is useless; revoke it (this ends the session).
      await this.#api.del(`/devices/${sessionDevice}`).catch(() => undefined);
      throw new EngineError('device_lost', "This browser's keys are gone; log in again to set up a new device");
    }
    if (local?.deviceId != null) {
      // Keys of a device from an earlier login: that device cannot be used by this session. Start afresh.
      await this.#api.del(`/devices/${local.deviceId}`).catch(() => undefined);
      this.#db.close();
      await Idb.delete(this.#factory, dbName(this.#config, this.#userId));
      this.#db = await Idb.open(this.#factory, dbName(this.#config, this.#userId));
      local = undefined;
    }
    const identity = local ? IdentityKeyPair.deserialize(local.identity) : IdentityKeyPair.generate();
    const signed = SignedPreKeyRecord.generate(1, identity);
    const preKeys = generatePreKeys(1, PREKEY_BATCH);
    if (!local) {
      local = {
        deviceId: null,
        identity: identity.serialize(),
        registrationId: 1 + Math.floor(Math.random() * 16380),
        nextPreKeyId: PREKEY_BATCH + 1,
        signedPreKeyId: 1,
      };
    }
    // Keys first, registration second: a failed registration is retried with the same keys on the next start.
    await this.#db.write([STORES.meta, STORES.signedPreKeys, STORES.preKeys], (put) => {
      put(STORES.meta, local, 'device');
      put(STORES.signedPreKeys, signed.serialize(), signed.id);
      for (const p of preKeys) put(STORES.preKeys, p.serialize(), p.id);
    });
    const pq = await pqRegistration(this.#db, identity);
    const answer = await this.#api.post<{ device: { deviceId: number } }>('/devices', {
      name: this.#config.deviceName ?? defaultDeviceName(),
      registrationId: local.registrationId,
      identityKey: toBase64(identity.publicKey.serialize()),
      signedPreKey: {
        keyId: signed.id,
        publicKey: toBase64(signed.keyPair.publicKey.serialize()),
        signature: toBase64(signed.signature),
      },
      preKeys: preKeys.map((p) => ({ keyId: p.id, publicKey: toBase64(p.keyPair.publicKey.serialize()) })),
      ...pq,
    });
    local = { ...local, deviceId: answer.device.deviceId, nextPreKeyId: PREKEY_BATCH + 1 };
    await this.#db.put(STORES.meta, local, 'device');
    this.#device = { ...local, deviceId: answer.device.deviceId };
    this.#log('device.registered', { deviceId: answer.device.deviceId });
  }

  readonly #onOnline = () => {
    void this.refresh();
  };

  /** A signed prekey older than a week is replaced; the old one stays (messages to it may still arrive). */
  async #rotateSignedPreKeyIfStale(): Promise<void> {
    const current = await this.#stores.signedPreKeys.loadSignedPreKey(this.#device.signedPreKeyId);
    if (current && !current.isStale()) return;
    const identity = IdentityKeyPair.deserialize(this.#device.identity);
    const next = SignedPreKeyRecord.generate(this.#device.signedPreKeyId + 1, identity);
    await this.#stores.signedPreKeys.storeSignedPreKey(next.id, next);
    await this.#api.request('PUT', `/devices/${this.#device.deviceId}/signed-prekey`, {
      signedPreKey: {
        keyId: next.id,
        publicKey: toBase64(next.keyPair.publicKey.serialize()),
        signature: toBase64(next.signature),
      },
    });
    this.#device = { ...this.#device, signedPreKeyId: next.id };
    await this.#db.put(STORES.meta, this.#device, 'device');
    this.#log('signed_prekey.rotated', { keyId: next.id });
  }

  async #topUpPreKeys(): Promise<void> {
    const { devices } = await this.#api.get<DeviceListResponse>('/devices');
    const current = devices.find((d) => d.current);
    if (current) {
      await maintainPqPreKeys(this.#api, this.#db, IdentityKeyPair.deserialize(this.#device.identity), current).catch(
        (error) => this.#log('pq_prekeys.maintenance_failed', { error: String(error) }),
      );
    }
    if (!current || current.preKeysRemaining >= PREKEY_LOW_WATER) return;
    const start = this.#device.nextPreKeyId;
    const preKeys = generatePreKeys(start, PREKEY_BATCH);
    this.#device = { ...this.#device, nextPreKeyId: start + PREKEY_BATCH };
    await this.#db.write([STORES.meta, STORES.preKeys], (put) => {
      put(STORES.meta, this.#device, 'device');
      for (const p of preKeys) put(STORES.preKeys, p.serialize(), p.id);
    });
    await this.#api.post(`/devices/${this.#device.deviceId}/prekeys`, {
      preKeys: preKeys.map((p) => ({ keyId: p.id, publicKey: toBase64(p.keyPair.publicKey.serialize()) })),
    });
    this.#log('prekeys.uploaded', { count: PREKEY_BATCH });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#calls?.dispose();
    if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('online', this.#onOnline);
    this.#socket?.stop();
    this.#socket = null;
    for (const timer of [this.#retryTimer, this.#refreshConvTimer]) if (timer) clearTimeout(timer);
    for (const timers of this.#typingTimers.values()) for (const t of timers.values()) clearTimeout(t);
    await this.#queue.catch(() => undefined);
    await this.#flushing?.catch(() => undefined);
    for (const controller of this.#uploads.values()) controller.abort();
    this.#transfers.clear();
    this.#avatars?.clear();
    this.#db?.close();
    this.#releaseDeviceLock?.();
    this.#releaseDeviceLock = null;
  }

  /** Logout: this device stops existing (server and browser), so nobody encrypts for it any more. */
  async retire(): Promise<void> {
    await this.#api.del(`/devices/${this.#device.deviceId}`).catch(() => undefined);
    await this.close();
    await Idb.delete(this.#factory, dbName(this.#config, this.#userId));
  }

  /**
   * Forgets this browser's keys and history without telling the server (its session is already gone, as
   * after logout-all): the device stays listed until revoked from another device's Devices page.
   */
  async discard(): Promise<void> {
    await this.close();
    await Idb.delete(this.#factory, dbName(this.#config, this.#userId));
  }

  // ---------------------------------------------------------------- local state

  async #loadLocal(): Promise<void> {
    const all = await this.#db.getAll<ItemRecord>(STORES.items);
    for (const item of all) this.#conversationItems(item.conversationId).set(item.key, item);
    for (const [userId, record] of Object.entries(
      Object.fromEntries((await this.#trustEntries()).map((r) => [r.userId, r.record])),
    )) {
      this.#setTrust(userId, record);
    }
  }

  async #trustEntries(): Promise<{ userId: string; record: TrustRecord }[]> {
    const records = await this.#db.getAll<TrustRecord & { userId: string }>(STORES.trust);
    return records.map((r) => ({ userId: r.userId, record: r }));
  }

  #conversationItems(conversationId: string): Map<string, ItemRecord> {
    let items = this.#items.get(conversationId);
    if (!items) {
      items = new Map();
      this.#items.set(conversationId, items);
    }
    return items;
  }

  #sorted(conversationId: string): ItemRecord[] {
    return [...this.#conversationItems(conversationId).values()].sort(
      (a, b) => (a.seq ?? Number.MAX_SAFE_INTEGER) - (b.seq ?? Number.MAX_SAFE_INTEGER) || a.localTime - b.localTime,
    );
  }

  async #saveItem(item: ItemRecord, previousTerms: readonly string[] = []): Promise<void> {
    const names = (item.attachments ?? []).map((a) => a.name).join(' ');
    const terms =
      item.kind === 'message' && !item.deleted && item.decryptError === null ? tokenize(`${item.text} ${names}`) : [];
    item.terms = terms;
    await this.#db.write([STORES.items, STORES.postings], (put, del) => {
      put(STORES.items, item);
      for (const term of previousTerms) if (!terms.includes(term)) del(STORES.postings, [term, item.key]);
      for (const term of terms) put(STORES.postings, { term, key: item.key });
    });
    this.#conversationItems(item.conversationId).set(item.key, item);
    this.#render(item.conversationId);
  }

  async #removeItem(item: ItemRecord): Promise<void> {
    await this.#db.write([STORES.items, STORES.postings], (_put, del) => {
      del(STORES.items, item.key);
      for (const term of item.terms) del(STORES.postings, [term, item.key]);
    });
    this.#conversationItems(item.conversationId).delete(item.key);
  }

  #findByContent(conversationId: string, contentId: string): ItemRecord | undefined {
    return this.#conversationItems(conversationId).get(`${conversationId}|${contentId}`);
  }

  #findBySeq(conversationId: string, seq: number): ItemRecord | undefined {
    for (const item of this.#conversationItems(conversationId).values()) if (item.seq === seq) return item;
    return undefined;
  }

  #nameOf = (userId: string | null): string => {
    if (userId === null) return 'CipherTalk';
    if (userId === this.#userId) return 'You';
    return this.#names.get(userId) ?? 'Someone';
  };

  /**
   * How far the other members have read a conversation, from their read markers (`lastReadSeq` in the
   * conversation list): fills in the read receipts this device missed while it was offline. Live receipts move
   * `item.state` itself.
   */
  #othersReadUpTo(conversationId: string): number {
    const members = this.#serverConvs.get(conversationId)?.members ?? [];
    return Math.max(0, ...members.filter((m) => m.userId !== this.#userId).map((m) => m.lastReadSeq));
  }

  #stateOf(item: ItemRecord, othersReadUpTo: number): MessageState {
    const sentByMe = item.senderId === this.#userId && item.seq !== null && STATE_RANK[item.state] >= STATE_RANK.sent;
    return sentByMe && item.seq !== null && item.seq <= othersReadUpTo ? 'read' : item.state;
  }

  #view(item: ItemRecord, othersReadUpTo: number): TimelineItem {
    const id =
      item.seq !== null ? `${item.conversationId}:${item.seq}` : `${item.conversationId}:pending:${item.contentId}`;
    if (item.kind === 'system') {
      return {
        kind: 'system',
        id,
        conversationId: item.conversationId,
        seq: item.seq ?? 0,
        at: item.at,
        text: item.text,
      };
    }
    const replyTarget = item.replyTo ? this.#findByContent(item.conversationId, item.replyTo.contentId) : undefined;
    const view: MessageView = {
      kind: 'message',
      id,
      conversationId: item.conversationId,
      contentId: item.contentId ?? `seq-${item.seq}`,
      seq: item.seq,
      senderId: item.senderId ?? '',
      senderName: this.#nameOf(item.senderId),
      senderDeviceId: item.senderDeviceId,
      mine: item.senderId === this.#userId,
      at: item.at,
      text: item.deleted ? '' : item.text,
      replyTo: item.replyTo
        ? {
            contentId: item.replyTo.contentId,
            senderId: item.replyTo.senderId,
            senderName: this.#nameOf(item.replyTo.senderId),
            text:
              replyTarget && !replyTarget.deleted
                ? (replyTarget.text || attachmentSummary(replyTarget.attachments ?? [])).slice(0, 200)
                : item.replyTo.excerpt,
          }
        : null,
      reactions: Object.entries(item.reactions)
        .filter(([, users]) => users.length > 0)
        .map(([emoji, users]) => ({ emoji, userIds: users, mine: users.includes(this.#userId) })),
      edited: item.edited,
      deleted: item.deleted,
      state: this.#stateOf(item, othersReadUpTo),
      decryptError: item.decryptError,
      call: item.call ?? null,
      attachments: item.deleted ? [] : (item.attachments ?? []).map(attachmentView),
    };
    return view;
  }

  #render(conversationId: string): void {
    const target = this.#state.timelines.get(conversationId);
    if (target) {
      const sorted = this.#sorted(conversationId);
      const window = this.#windows.get(conversationId) ?? PAGE;
      const visible = sorted.slice(Math.max(0, sorted.length - window));
      const earliest = sorted[0]?.seq ?? null;
      const othersReadUpTo = this.#othersReadUpTo(conversationId);
      target.value = {
        items: visible.map((item) => this.#view(item, othersReadUpTo)),
        hasOlder:
          sorted.length > visible.length ||
          (earliest !== null && earliest > 1 && !this.#oldestReached.has(conversationId)),
        loadingOlder: target.value.loadingOlder,
      };
    }
    this.#renderConversations();
  }

  #renderConversations(): void {
    const views: ConversationView[] = [];
    for (const conv of this.#serverConvs.values()) {
      const items = this.#sorted(conv.id);
      const lastSeq = Math.max(conv.lastSeq, ...items.map((i) => i.seq ?? 0));
      const marker = Math.max(this.#readMarkers.get(conv.id) ?? 0, conv.lastSeq - conv.unreadCount);
      let unread = 0;
      let last: ItemRecord | undefined;
      for (const item of items) {
        if (item.kind !== 'message') continue;
        last = item;
        if (item.senderId !== this.#userId && item.seq !== null && item.seq > marker && !item.deleted) unread++;
      }
      const members: MemberView[] = conv.members.map((m) => {
        const presence = this.#presence.get(m.userId);
        return {
          userId: m.userId,
          displayName: m.displayName,
          role: m.role,
          joinedAt: m.joinedAt,
          presence: presence?.status ?? 'unknown',
          lastSeenAt: presence?.lastSeenAt ?? null,
        };
      });
      const peer = conv.kind === 'direct' ? (members.find((m) => m.userId !== this.#userId) ?? null) : null;
      const lastAt = last && last.at > conv.lastActivityAt ? last.at : conv.lastActivityAt;
      views.push({
        id: conv.id,
        kind: conv.kind,
        title: conv.kind === 'group' ? (conv.name ?? 'Group') : (peer?.displayName ?? 'Direct conversation'),
        name: conv.name,
        members,
        myRole: conv.role,
        unreadCount: unread,
        lastActivityAt: lastAt,
        lastSeq,
        lastMessage: last
          ? {
              senderId: last.senderId ?? '',
              senderName: this.#nameOf(last.senderId),
              text: last.deleted
                ? 'Message deleted'
                : last.decryptError
                  ? 'Message could not be decrypted'
                  : last.text.slice(0, 120) || (last.attachments?.length ? attachmentSummary(last.attachments) : ''),
              at: last.at,
            }
          : null,
        peer,
      });
    }
    views.sort((a, b) => (a.lastActivityAt < b.lastActivityAt ? 1 : a.lastActivityAt > b.lastActivityAt ? -1 : 0));
    this.#state.conversations.value = views;
  }

  // ---------------------------------------------------------------- conversations, devices, directory

  async refreshConversations(): Promise<void> {
    const { conversations } = await this.#api.get<ConversationListResponse>('/conversations');
    this.#serverConvs.clear();
    // (Sender keys rotate at the next group send that finds a device it went to no longer among the targets.)
    for (const conv of conversations) {
      this.#serverConvs.set(conv.id, conv);
      for (const m of conv.members) this.#names.set(m.userId, m.displayName);
    }
    for (const id of this.#state.timelines.keys()) this.#render(id);
    this.#renderConversations();
  }

  #scheduleConversationRefresh(): void {
    if (this.#refreshConvTimer || this.#closed) return;
    this.#refreshConvTimer = setTimeout(() => {
      this.#refreshConvTimer = null;
      void this.refreshConversations().catch((error) =>
        this.#log('conversations.refresh_failed', { error: String(error) }),
      );
    }, 200);
  }

  async refreshDevices(): Promise<void> {
    const { devices } = await this.#api.get<DeviceListResponse>('/devices');
    this.#state.devices.value = devices.map((d) => ({
      deviceId: d.deviceId,
      name: d.name,
      createdAt: d.createdAt,
      lastSeenAt: d.lastSeenAt,
      current: d.current,
      preKeysRemaining: d.preKeysRemaining,
    }));
  }

  async adoptConversation(conversation: Conversation): Promise<void> {
    this.#serverConvs.set(conversation.id, conversation);
    for (const m of conversation.members) this.#names.set(m.userId, m.displayName);
    this.#renderConversations();
  }

  async afterMembershipChange(): Promise<void> {
    await this.refreshConversations();
    await this.catchUp();
  }

  forgetConversation(conversationId: string): void {
    this.#serverConvs.delete(conversationId);
    this.#renderConversations();
  }

  rememberName(userId: string, displayName: string): void {
    this.#names.set(userId, displayName);
  }

  /** Another user's live devices (cached until a send says they changed). */
  async #devicesOf(userId: string, fresh = false): Promise<PublicDevice[]> {
    const cached = this.#deviceCache.get(userId);
    if (cached && !fresh) return cached;
    const { devices } = await this.#api.get<PublicDeviceListResponse>(`/users/${userId}/devices`);
    this.#deviceCache.set(userId, devices);
    await rememberPostQuantumDevices(this.#db, userId, devices);
    if (userId !== this.#userId) await this.#observeKeys(userId, devices);
    return devices;
  }

  async #ensureName(userId: string): Promise<void> {
    if (this.#names.has(userId)) return;
    try {
      const { user } = await this.#api.get<UserProfileResponse>(`/users/${userId}`);
      this.#names.set(userId, user.displayName);
    } catch {
      // the name stays "Someone"
    }
  }

  // ---------------------------------------------------------------- timeline API

  readonly #presenceAsked = new Set<string>();

  timeline(conversationId: string): void {
    if (!this.#presenceAsked.has(conversationId)) {
      this.#presenceAsked.add(conversationId);
      void this.presenceOf(conversationId);
    }
    const target = timelineSignal(this.#state, conversationId);
    if (target.value === EMPTY_TIMELINE) this.#render(conversationId);
  }

  async loadOlder(conversationId: string): Promise<void> {
    const target = timelineSignal(this.#state, conversationId);
    const sorted = this.#sorted(conversationId);
    const window = (this.#windows.get(conversationId) ?? PAGE) + PAGE;
    this.#windows.set(conversationId, window);
    if (sorted.length < window) {
      // Not enough kept locally: the server's timeline has the older system events (message ciphertext this
      // device already received is gone from the server; its plaintext is what we keep here).
      const localEarliest =
        sorted.find((i) => i.seq !== null)?.seq ?? (this.#serverConvs.get(conversationId)?.lastSeq ?? 0) + 1;
      // Pages of the server's timeline may add nothing here (messages whose ciphertext is gone): keep going back.
      const earliest = Math.min(localEarliest, this.#olderCursor.get(conversationId) ?? localEarliest);
      if (earliest > 1 && !this.#oldestReached.has(conversationId)) {
        target.value = { ...target.value, loadingOlder: true };
        try {
          await this.#enqueue(async () => {
            const page = TimelineResponseSchema.parse(
              await this.#api.get<TimelineResponse>(`/conversations/${conversationId}/messages`, {
                before: earliest,
                limit: PAGE,
              }),
            );
            for (const entry of page.messages) await this.#ingest(conversationId, entry, { older: true });
            const first = page.messages[0]?.seq;
            if (first !== undefined) this.#olderCursor.set(conversationId, first);
            if (page.messages.length < PAGE || page.messages[0]?.seq === 1) this.#oldestReached.add(conversationId);
          });
        } finally {
          target.value = { ...target.value, loadingOlder: false };
        }
      }
    }
    this.#render(conversationId);
  }

  async markRead(conversationId: string): Promise<void> {
    const conv = this.#serverConvs.get(conversationId);
    const items = this.#sorted(conversationId);
    const seq = Math.max(conv?.lastSeq ?? 0, ...items.map((i) => i.seq ?? 0));
    if (seq <= (this.#readMarkers.get(conversationId) ?? -1)) return;
    this.#readMarkers.set(conversationId, seq);
    this.#renderConversations();
    if (seq === 0) return;
    try {
      if (this.#socket?.online) await this.#socket.request({ action: 'receipt.read', conversationId, seq });
      else await this.#api.post(`/conversations/${conversationId}/read`, { seq });
    } catch (error) {
      // The realtime route may refuse (older server): the REST marker still moves.
      await this.#api.post(`/conversations/${conversationId}/read`, { seq }).catch(() => undefined);
      this.#log('read.ws_failed', { error: String(error) });
    }
  }

  setTyping(conversationId: string, typing: boolean): void {
    const socket = this.#socket;
    if (!socket?.online) return;
    const last = this.#typingSent.get(conversationId) ?? 0;
    const now = Date.now();
    if (typing) {
      if (now - last < TYPING_THROTTLE_MS) return;
      this.#typingSent.set(conversationId, now);
    } else {
      if (last === 0) return;
      this.#typingSent.delete(conversationId);
    }
    void socket.request({ action: 'typing', conversationId, state: typing ? 'start' : 'stop' }).catch(() => undefined);
  }

  // ---------------------------------------------------------------- sending

  async send(conversationId: string, text: string, replyTo?: MessageRef): Promise<MessageRef> {
    const trimmed = text.trim();
    if (trimmed.length === 0) throw new EngineError('empty', 'Nothing to send');
    this.setTyping(conversationId, false);
    const contentId = randomUuid();
    const target = replyTo ? this.#findByContent(replyTo.conversationId, replyTo.contentId) : undefined;
    const content: Content = {
      v: 1,
      id: contentId,
      kind: 'text',
      text: trimmed,
      ...(replyTo
        ? {
            replyTo: {
              id: replyTo.contentId,
              senderId: target?.senderId ?? null,
              excerpt: (target ? target.text || attachmentSummary(target.attachments ?? []) : '').slice(0, 200),
            },
          }
        : {}),
    };
    const now = Date.now();
    await this.#saveItem({
      key: `${conversationId}|${contentId}`,
      conversationId,
      contentId,
      seq: null,
      kind: 'message',
      senderId: this.#userId,
      senderDeviceId: this.#device.deviceId,
      at: new Date(now).toISOString(),
      localTime: now,
      text: trimmed,
      replyTo: content.replyTo
        ? { contentId: content.replyTo.id, senderId: content.replyTo.senderId, excerpt: content.replyTo.excerpt }
        : null,
      reactions: {},
      edited: false,
      deleted: false,
      state: 'sending',
      decryptError: null,
      terms: [],
    });
    await this.#queueContent(conversationId, content);
    return { conversationId, contentId };
  }

  async edit(ref: MessageRef, text: string): Promise<void> {
    const item = this.#ownItem(ref);
    const trimmed = text.trim();
    if (trimmed.length === 0) throw new EngineError('empty', 'An edit needs text; delete the message instead');
    const previous = item.terms;
    item.text = trimmed;
    item.edited = true;
    await this.#saveItem(item, previous);
    await this.#queueContent(ref.conversationId, {
      v: 1,
      id: randomUuid(),
      kind: 'edit',
      target: ref.contentId,
      text: trimmed,
    });
  }

  async deleteForEveryone(ref: MessageRef): Promise<void> {
    const item = this.#ownItem(ref);
    const previous = item.terms;
    item.deleted = true;
    item.text = '';
    item.attachments = [];
    await this.#saveItem(item, previous);
    await this.#queueContent(ref.conversationId, { v: 1, id: randomUuid(), kind: 'delete', target: ref.contentId });
  }

  async react(ref: MessageRef, emoji: string): Promise<void> {
    const item = this.#findByContent(ref.conversationId, ref.contentId);
    if (item?.kind !== 'message') throw new EngineError('not_found', 'No such message');
    const users = item.reactions[emoji] ?? [];
    const on = !users.includes(this.#userId);
    item.reactions = {
      ...item.reactions,
      [emoji]: on ? [...users, this.#userId] : users.filter((u) => u !== this.#userId),
    };
    await this.#saveItem(item, item.terms);
    await this.#queueContent(ref.conversationId, {
      v: 1,
      id: randomUuid(),
      kind: 'reaction',
      target: ref.contentId,
      emoji,
      on,
    });
  }

  async retry(ref: MessageRef): Promise<void> {
    const item = this.#ownItem(ref);
    if (item.state !== 'failed') return;
    const refs = refsOf(item);
    if (refs === null) {
      const files = this.#failedUploads.get(item.key);
      if (!files) throw new EngineError('upload_lost', 'The files were not uploaded: send them again');
      this.#failedUploads.delete(item.key);
      item.state = 'sending';
      this.#upload(item, ref, files);
      return;
    }
    item.state = 'sending';
    await this.#saveItem(item, item.terms);
    await this.#queueContent(
      ref.conversationId,
      {
        v: 1,
        id: ref.contentId,
        kind: 'text',
        text: item.text,
        ...(item.replyTo
          ? { replyTo: { id: item.replyTo.contentId, senderId: item.replyTo.senderId, excerpt: item.replyTo.excerpt } }
          : {}),
        ...(refs.length > 0 ? { attachments: refs } : {}),
      },
      attachmentIdsOf(refs),
    );
  }

  // ---------------------------------------------------------------- attachments (see attachments.ts)

  async sendFiles(conversationId: string, files: readonly File[], text = ''): Promise<MessageRef> {
    if (files.length === 0) return this.send(conversationId, text);
    if (files.length > MAX_ATTACHMENTS_PER_MESSAGE) {
      throw new EngineError('too_many_files', `At most ${MAX_ATTACHMENTS_PER_MESSAGE} files per message`);
    }
    const tooLarge = files.find((f) => f.size > MAX_ATTACHMENT_BYTES);
    if (tooLarge) throw new EngineError('file_too_large', `${tooLarge.name} is larger than the 100 MB limit`);
    const trimmed = text.trim();
    if (trimmed.length > MAX_TEXT_LENGTH) throw new EngineError('too_long', 'The message is too long');
    this.setTyping(conversationId, false);
    const contentId = randomUuid();
    const ref: MessageRef = { conversationId, contentId };
    const now = Date.now();
    // The local echo lives in memory until the uploads are done: a reload or a cancel leaves nothing behind.
    const item: ItemRecord = {
      ...blankItem(conversationId, `${conversationId}|${contentId}`, null, new Date(now).toISOString()),
      contentId,
      senderId: this.#userId,
      senderDeviceId: this.#device.deviceId,
      localTime: now,
      text: trimmed,
      state: 'sending',
      attachments: files.map((f) => ({ name: safeName(f.name), type: safeType(f.type), size: f.size, ref: null })),
    };
    this.#conversationItems(conversationId).set(item.key, item);
    this.#upload(item, ref, files);
    return ref;
  }

  /**
   * Encrypts and uploads the files of a message shown (not yet stored) as `item`, then queues the message. A
   * cancel stops it and sends nothing; a failure marks the item failed and keeps the files for a retry.
   */
  #upload(item: ItemRecord, ref: MessageRef, files: readonly File[]): void {
    const { conversationId } = ref;
    const controller = new AbortController();
    this.#uploads.set(item.key, controller);
    for (const index of files.keys()) {
      const key = transferKey(ref, index);
      this.#transfers.set(key, { direction: 'upload', loaded: 0, total: 0, state: 'active', error: null, url: null });
    }
    this.#render(conversationId);
    void (async () => {
      try {
        const refs = await uploadFiles(
          this.#transport,
          this.#transfers,
          conversationId,
          files,
          (index, thumbnail) => transferKey(ref, index, thumbnail),
          controller.signal,
          (index, facts) => {
            Object.assign(item.attachments?.[index] ?? {}, facts);
            this.#render(conversationId);
          },
        );
        if (controller.signal.aborted || this.#closed) return;
        this.#uploads.delete(item.key);
        item.attachments = refs.map(storedOf);
        await this.#saveItem(item);
        await this.#queueContent(
          conversationId,
          { v: 1, id: ref.contentId, kind: 'text', text: item.text, attachments: refs },
          attachmentIdsOf(refs),
        );
      } catch (error) {
        this.#uploads.delete(item.key);
        if (controller.signal.aborted) return;
        this.#log('attachment.upload_failed', { conversationId, error: String(error) });
        const reason = error instanceof Error ? error.message : String(error);
        files.forEach((_, index) => {
          const key = transferKey(ref, index);
          const current = this.#transfers.get(key);
          if (current?.state === 'active') this.#transfers.set(key, { ...current, state: 'failed', error: reason });
        });
        this.#failedUploads.set(item.key, files);
        item.state = 'failed';
        this.#render(conversationId);
      }
    })();
  }

  async cancelUpload(ref: MessageRef): Promise<void> {
    const item = this.#findByContent(ref.conversationId, ref.contentId);
    if (!item) return;
    const controller = this.#uploads.get(item.key);
    this.#failedUploads.delete(item.key);
    if (controller) {
      controller.abort();
      this.#uploads.delete(item.key);
    } else if (item.state !== 'failed' || refsOf(item) !== null) {
      throw new EngineError('too_late', 'The files are uploaded and the message is on its way');
    }
    (item.attachments ?? []).forEach((_, index) => {
      const key = transferKey(ref, index);
      const current = this.#transfers.get(key);
      if (current?.state === 'active') this.#transfers.set(key, { ...current, state: 'cancelled' });
    });
    this.#conversationItems(ref.conversationId).delete(item.key);
    this.#render(ref.conversationId);
    this.#log('attachment.upload_cancelled', { conversationId: ref.conversationId });
  }

  #attachmentOf(ref: MessageRef, index: number): StoredAttachment {
    const file = this.#findByContent(ref.conversationId, ref.contentId)?.attachments?.[index];
    if (!file) throw new EngineError('not_found', 'No such file');
    return file;
  }

  download(ref: MessageRef, index: number): Promise<string> {
    const file = this.#attachmentOf(ref, index);
    const key = transferKey(ref, index);
    const own = this.#transfers.get(key);
    if (own?.url) return Promise.resolve(own.url);
    const attachment = file.ref;
    if (!attachment) return Promise.reject(new EngineError('uploading', 'The file is still uploading'));
    // Only types the UI shows inline keep their type; anything else is saved as bytes, never rendered.
    const type = displayOf(file.type) === 'file' ? 'application/octet-stream' : file.type;
    return this.#transfers.once(key, 'download', (signal) =>
      this.#transport.download(attachment, type, {
        signal,
        onProgress: (loaded, total) => this.#transfers.progress(key, loaded, total),
      }),
    );
  }

  async thumbnail(ref: MessageRef, index: number): Promise<string | null> {
    const file = this.#attachmentOf(ref, index);
    const key = transferKey(ref, index, true);
    const local = this.#transfers.get(key);
    if (local?.url) return local.url;
    const thumb = file.ref?.thumbnail;
    if (!thumb || displayOf(thumb.type) !== 'image') return null;
    return this.#transfers.once(key, 'download', (signal) => this.#transport.download(thumb, thumb.type, { signal }));
  }

  // ---------------------------------------------------------------- avatars (see avatars.ts)

  async setMyAvatar(file: File | null): Promise<void> {
    const avatars = this.#requireAvatars();
    const picture = file ? await avatars.picture(file) : null;
    const image = picture ? new Uint8Array(await picture.blob.arrayBuffer()) : null;
    await avatars.store(this.#userId, new Date().toISOString(), image);
    // One upload per conversation: the server lets only that conversation's members fetch it.
    for (const conv of [...this.#serverConvs.values()]) await this.#announceAvatar(conv.id, 'user', picture);
  }

  async setGroupAvatar(conversationId: string, file: File | null): Promise<void> {
    const avatars = this.#requireAvatars();
    const conv = this.#serverConvs.get(conversationId);
    if (conv?.kind !== 'group') throw new EngineError('not_found', 'No such group');
    if (conv.role !== 'owner' && conv.role !== 'admin') {
      throw new EngineError('forbidden', 'Only the owner and admins change the group picture');
    }
    const picture = file ? await avatars.picture(file) : null;
    const image = picture ? new Uint8Array(await picture.blob.arrayBuffer()) : null;
    await avatars.store(conversationId, new Date().toISOString(), image);
    await this.#announceAvatar(conversationId, 'group', picture);
  }

  /** Tells a conversation with someone new in it one's own picture and, for its owner, the group's. */
  async #announceAvatarsTo(conversationId: string): Promise<void> {
    const avatars = this.#avatars;
    if (!avatars) return;
    const mine = await avatars.image(this.#userId);
    if (mine) await this.#announceAvatar(conversationId, 'user', { blob: jpeg(mine) });
    let conv = this.#serverConvs.get(conversationId);
    if (!conv) {
      conv = (await this.#api.get<ConversationResponse>(`/conversations/${conversationId}`)).conversation;
    }
    const group = conv.kind === 'group' && conv.role === 'owner' ? await avatars.image(conversationId) : null;
    if (group) await this.#announceAvatar(conversationId, 'group', { blob: jpeg(group) });
  }

  async #announceAvatar(
    conversationId: string,
    scope: 'user' | 'group',
    picture: { blob: Blob; width?: number; height?: number } | null,
  ): Promise<void> {
    let attachment: AttachmentRef | null = null;
    if (picture) {
      const uploaded = await this.#transport.upload(conversationId, picture.blob);
      attachment = {
        ...uploaded,
        name: 'avatar.jpg',
        type: 'image/jpeg',
        size: picture.blob.size,
        ...(picture.width && picture.height ? { width: picture.width, height: picture.height } : {}),
      };
    }
    await this.#queueContent(
      conversationId,
      { v: 1, id: randomUuid(), kind: 'avatar', scope, attachment },
      attachment ? [attachment.id] : [],
    );
  }

  #requireAvatars(): Avatars {
    if (!this.#avatars) throw new EngineError('not_ready', 'Not started');
    return this.#avatars;
  }

  cancelDownload(ref: MessageRef, index: number): void {
    this.#transfers.abort(transferKey(ref, index));
  }

  #ownItem(ref: MessageRef): ItemRecord {
    const item = this.#findByContent(ref.conversationId, ref.contentId);
    if (item?.kind !== 'message') throw new EngineError('not_found', 'No such message');
    if (item.senderId !== this.#userId) throw new EngineError('forbidden', 'Only your own messages');
    return item;
  }

  /** Strictly increasing, so the outbox keeps the order of sends made within one millisecond. */
  #nextQueuedAt(): number {
    this.#lastQueuedAt = Math.max(Date.now(), this.#lastQueuedAt + 0.001);
    return this.#lastQueuedAt;
  }

  async #queueContent(conversationId: string, content: Content, attachmentIds: string[] = []): Promise<void> {
    const record: OutboxRecord = {
      contentId: content.id,
      conversationId,
      clientMessageId: randomUuid(),
      content,
      queuedAt: this.#nextQueuedAt(),
      ...(attachmentIds.length > 0 ? { attachmentIds } : {}),
    };
    await this.#db.put(STORES.outbox, record);
    void this.flush();
  }

  /** Sends what the outbox holds, oldest first; stops at the first network failure and retries later. */
  flush(): Promise<void> {
    if (this.#flushing) {
      this.#flushAgain = true;
      return this.#flushing;
    }
    this.#flushing = (async () => {
      do {
        this.#flushAgain = false;
        const queued = (await this.#db.getAll<OutboxRecord>(STORES.outbox)).sort((a, b) => a.queuedAt - b.queuedAt);
        for (const record of queued) {
          if (this.#closed) return;
          const ok = await this.#sendRecord(record);
          if (!ok) {
            this.#scheduleRetry();
            return;
          }
        }
      } while (this.#flushAgain && !this.#closed);
    })().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.flush();
    }, 3000);
  }

  /** False when the network failed (keep it queued); true when done with the record (sent or failed for good). */
  async #sendRecord(record: OutboxRecord): Promise<boolean> {
    const { conversationId, content } = record;
    try {
      const stored = await this.#sendContent(
        conversationId,
        encodeContent(content),
        record.clientMessageId,
        record.attachmentIds,
      );
      await this.#db.write([STORES.outbox, STORES.seen], (put, del) => {
        del(STORES.outbox, record.contentId);
        put(STORES.seen, true, `${conversationId}:${stored.seq}`);
      });
      if (content.kind === 'text') {
        const item = this.#findByContent(conversationId, content.id);
        if (item) {
          if (item.seq === null || content.resendOf === undefined) item.seq = stored.seq;
          item.at = content.resendOf === undefined ? stored.createdAt : item.at;
          if (STATE_RANK[item.state] < STATE_RANK.sent) item.state = 'sent';
          await this.#saveItem(item, item.terms);
        }
      }
      if (content.kind === 'call') await this.#callEventSent(conversationId, content.id, stored);
      this.#log('message.sent', { conversationId, seq: stored.seq, kind: content.kind });
      return true;
    } catch (error) {
      if (isEngineError(error, 'network') || isEngineError(error, 'offline') || isEngineError(error, 'timeout')) {
        this.#log('message.send_deferred', { conversationId });
        return false;
      }
      if (isEngineError(error) && (error.status ?? 0) >= 500) return false;
      this.#log('message.send_failed', { conversationId, error: String(error) });
      await this.#db.delete(STORES.outbox, record.contentId);
      if (content.kind === 'text') {
        const item = this.#findByContent(conversationId, content.id);
        if (item && item.state === 'sending') {
          item.state = 'failed';
          await this.#saveItem(item, item.terms);
        }
      }
      return true;
    }
  }

  /** Encrypts `plaintext` for the conversation's devices and stores it on the server. */
  async #sendContent(
    conversationId: string,
    plaintext: Uint8Array,
    clientMessageId: string,
    attachmentIds?: string[],
  ): Promise<SendMessageResponse> {
    let conv = this.#serverConvs.get(conversationId);
    if (!conv) {
      conv = (await this.#api.get<ConversationResponse>(`/conversations/${conversationId}`)).conversation;
      this.#serverConvs.set(conversationId, conv);
    }
    return conv.kind === 'direct'
      ? this.#sendPairwise(conversationId, plaintext, clientMessageId, attachmentIds)
      : this.#sendGroup(conversationId, plaintext, clientMessageId, attachmentIds);
  }

  async #memberIds(conversationId: string): Promise<string[]> {
    const conv = this.#serverConvs.get(conversationId);
    if (!conv) throw new EngineError('not_found', 'No such conversation');
    return conv.members.map((m) => m.userId);
  }

  async #targets(conversationId: string): Promise<ProtocolAddress[]> {
    const out: ProtocolAddress[] = [];
    for (const userId of await this.#memberIds(conversationId)) {
      for (const device of await this.#devicesOf(userId)) {
        const address = ProtocolAddress.of(userId, device.deviceId);
        if (!address.equals(this.#me)) out.push(address);
      }
    }
    return out;
  }

  /** After a 409: forget the device lists of the users it names (and the sessions of devices that left). */
  async #devicesChanged(conversationId: string, error: EngineError): Promise<void> {
    const users = new Set<string>();
    for (const issue of error.issues) {
      const [userId, device] = issue.path.split('/');
      if (!userId) continue;
      users.add(userId);
      if (issue.message === 'extra' && device) {
        await this.#stores.sessions.deleteSession(ProtocolAddress.of(userId, Number(device)));
      }
    }
    if (users.size === 0) for (const userId of await this.#memberIds(conversationId)) users.add(userId);
    for (const userId of users) this.#deviceCache.delete(userId);
    // Membership may have changed too.
    const { conversation } = await this.#api.get<ConversationResponse>(`/conversations/${conversationId}`);
    this.#serverConvs.set(conversationId, conversation);
    this.#log('devices.changed', { conversationId, issues: error.issues.length });
  }

  /** One device's pairwise envelope (a session is made from its prekey bundle when there is none). */
  async #seal(address: ProtocolAddress, plaintext: Uint8Array): Promise<Envelope> {
    const body = await (await this.#sessionWith(address)).encrypt(plaintext);
    return {
      userId: address.name,
      deviceId: address.deviceId,
      type: messageType(body) === MessageType.PreKey ? 'prekey' : 'signal',
      ciphertext: toBase64(body),
    };
  }

  /** Opens a pairwise ciphertext from `sender`; a session it started used one of our prekeys, so top them up. */
  async #openPairwise(sender: ProtocolAddress, bytes: Uint8Array): Promise<Uint8Array> {
    const result = await new SessionCipher(this.#stores, sender).decrypt(bytes);
    if (result.newSession) void this.#topUpPreKeys().catch(() => undefined);
    return result.plaintext;
  }

  async #sessionWith(address: ProtocolAddress): Promise<SessionCipher> {
    const cipher = new SessionCipher(this.#stores, address);
    if (!(await cipher.hasSession())) {
      const { bundle } = await this.#api.get<PreKeyBundleResponse>(
        `/users/${address.name}/devices/${address.deviceId}/prekey-bundle`,
      );
      await startSession(this.#db, this.#stores, address, bundleOf(bundle));
    }
    return cipher;
  }

  async #sendPairwise(
    conversationId: string,
    plaintext: Uint8Array,
    clientMessageId: string,
    attachmentIds?: string[],
  ): Promise<SendMessageResponse> {
    const envelopes = new Map<string, Envelope>();
    for (let attempt = 1; ; attempt++) {
      const targets = await this.#targets(conversationId);
      const wanted = new Set(targets.map((t) => t.toString()));
      for (const key of envelopes.keys()) if (!wanted.has(key)) envelopes.delete(key);
      for (const address of targets) {
        if (!envelopes.has(address.toString())) envelopes.set(address.toString(), await this.#seal(address, plaintext));
      }
      try {
        return await this.#postMessage(conversationId, {
          clientMessageId,
          ...(attachmentIds ? { attachmentIds } : {}),
          envelopes: [...envelopes.values()],
        });
      } catch (error) {
        if (!isEngineError(error, 'devices_changed') || attempt >= SEND_ATTEMPTS) throw error;
        await this.#devicesChanged(conversationId, error);
      }
    }
  }

  async #sendGroup(
    conversationId: string,
    plaintext: Uint8Array,
    clientMessageId: string,
    attachmentIds?: string[],
  ): Promise<SendMessageResponse> {
    let ciphertext: string | null = null;
    for (let attempt = 1; ; attempt++) {
      const targets = await this.#targets(conversationId);
      ciphertext = await this.#withGroupLock(conversationId, async () => {
        let group = (await this.#db.get<GroupRecord>(STORES.groups, conversationId)) ?? { distributedTo: [] };
        let encrypted = ciphertext;
        const wanted = new Set(targets.map((t) => t.toString()));
        if (group.distributedTo.some((address) => !wanted.has(address))) {
          // A member left (or a device was revoked) since our key went out: a fresh chain and signing key,
          // for the remaining devices only, so whoever left can read and forge nothing that follows.
          await rotateSenderKey(this.#stores.senderKeys, this.#me, conversationId);
          group = { distributedTo: [] };
          await this.#db.put(STORES.groups, group, conversationId);
          this.#log('sender_key.rotated', { conversationId });
          encrypted = null;
        }
        const lacking = targets.filter((t) => !group.distributedTo.includes(t.toString()));
        if (lacking.length > 0) {
          // The server wants pairwise traffic to reach every device, so the distribution goes to all of them.
          const distribution = await createSenderKeyDistributionMessage(
            this.#stores.senderKeys,
            this.#me,
            conversationId,
          );
          const content: Content = { v: 1, id: randomUuid(), kind: 'sender_key', distribution: toBase64(distribution) };
          await this.#sendPairwise(conversationId, encodeContent(content), randomUuid());
          await this.#db.put(
            STORES.groups,
            { distributedTo: targets.map((t) => t.toString()) } satisfies GroupRecord,
            conversationId,
          );
          this.#log('sender_key.distributed', { conversationId, devices: targets.length });
          // The distribution starts at the chain's current iteration: a ciphertext made earlier would be behind it.
          encrypted = null;
        }
        return encrypted ?? toBase64(await groupEncrypt(this.#stores.senderKeys, this.#me, conversationId, plaintext));
      });
      try {
        return await this.#postMessage(conversationId, {
          clientMessageId,
          ...(attachmentIds ? { attachmentIds } : {}),
          senderKeyCiphertext: ciphertext,
          recipients: targets.map((t) => ({ userId: t.name, deviceId: t.deviceId })),
        });
      } catch (error) {
        if (!isEngineError(error, 'devices_changed') || attempt >= SEND_ATTEMPTS) throw error;
        await this.#devicesChanged(conversationId, error);
      }
    }
  }

  /**
   * Stores a message: over the WebSocket (`message.send`) when connected and the frame fits API Gateway's
   * 32 KB, else (or when the socket drops or times out) over REST. Both are idempotent on clientMessageId.
   */
  async #postMessage(conversationId: string, message: SendMessageRequest): Promise<SendMessageResponse> {
    const socket = this.#socket;
    if (socket?.online && JSON.stringify(message).length < WS_SEND_MAX_CHARS) {
      try {
        const ack = await socket.request({ action: 'message.send', conversationId, message });
        if (ack.seq !== undefined && ack.createdAt !== undefined) {
          this.#log('message.via_ws', { conversationId, seq: ack.seq });
          return { seq: ack.seq, createdAt: ack.createdAt };
        }
      } catch (error) {
        if (!isEngineError(error, 'offline') && !isEngineError(error, 'timeout')) throw error;
      }
    }
    const stored = await this.#api.post<SendMessageResponse>(`/conversations/${conversationId}/messages`, message);
    this.#log('message.via_rest', { conversationId, seq: stored.seq });
    return stored;
  }

  /** One sender-key operation per group at a time: rotation, distribution and encryption must not interleave. */
  #withGroupLock<T>(conversationId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#groupLocks.get(conversationId) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.#groupLocks.set(conversationId, tail);
    void tail.then(() => {
      if (this.#groupLocks.get(conversationId) === tail) this.#groupLocks.delete(conversationId);
    });
    return run;
  }

  // ---------------------------------------------------------------- receiving

  #enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Reconnect now if disconnected, send what is queued, fetch what is waiting. */
  async refresh(): Promise<void> {
    this.#socket?.kick();
    await this.catchUp();
    await this.flush();
  }

  /** Everything the server holds for this device: `/sync` until done, then each conversation's timeline gap. */
  catchUp(): Promise<void> {
    if (this.#catchingUp) {
      this.#catchUpAgain = true;
      return this.#catchingUp;
    }
    this.#catchingUp = (async () => {
      do {
        this.#catchUpAgain = false;
        await this.#runSync();
        await this.refreshConversations();
        for (const conv of [...this.#serverConvs.values()]) await this.#fillGap(conv);
        await this.#flushAcks();
      } while (this.#catchUpAgain && !this.#closed);
    })()
      .catch((error) => {
        this.#log('sync.failed', { error: String(error) });
      })
      .finally(() => {
        this.#catchingUp = null;
      });
    return this.#catchingUp;
  }

  async #runSync(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      let answer: SyncResponse;
      try {
        answer = SyncResponseSchema.parse(await this.#api.get<SyncResponse>('/sync', { cursor, limit: 200 }));
      } catch (error) {
        this.#log('sync.unavailable', { error: String(error) });
        return;
      }
      for (const { conversationId, entry } of answer.entries) {
        await this.#enqueue(() => this.#ingest(conversationId, entry, {}));
      }
      await this.#flushAcks();
      if (!answer.more) return;
      cursor = answer.cursor;
    }
  }

  async #fillGap(conv: Conversation): Promise<void> {
    const synced = (await this.#db.get<number>(STORES.meta, `synced:${conv.id}`)) ?? 0;
    if (synced >= conv.lastSeq) return;
    let after = synced;
    while (after < conv.lastSeq) {
      const page = TimelineResponseSchema.parse(
        await this.#api.get<TimelineResponse>(`/conversations/${conv.id}/messages`, { after, limit: 200 }),
      );
      if (page.messages.length === 0) break;
      for (const entry of page.messages) await this.#enqueue(() => this.#ingest(conv.id, entry, {}));
      after = page.messages.at(-1)?.seq ?? page.lastSeq;
      await this.#db.put(STORES.meta, after, `synced:${conv.id}`);
    }
  }

  #ack(conversationId: string, seq: number): void {
    this.#pendingAcks.push({ conversationId, seq });
  }

  async #flushAcks(): Promise<void> {
    while (this.#pendingAcks.length > 0) {
      const deliveries = this.#pendingAcks.splice(0, 500);
      try {
        if (this.#socket?.online) await this.#socket.request({ action: 'message.ack', deliveries });
        else await this.#api.post('/sync/ack', { deliveries });
      } catch (error) {
        try {
          await this.#api.post('/sync/ack', { deliveries });
        } catch {
          this.#log('ack.failed', { error: String(error) });
          return;
        }
      }
    }
  }

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'entry':
        void this.#enqueue(async () => {
          if (!this.#serverConvs.has(frame.conversationId)) await this.refreshConversations().catch(() => undefined);
          await this.#ingest(frame.conversationId, frame.entry, {});
        })
          .then(() => this.#flushAcks())
          .catch((error) => this.#log('ingest.failed', { error: String(error), stack: (error as Error)?.stack }));
        return;
      case 'receipt':
        void this.#enqueue(() => this.#applyReceipt(frame.conversationId, frame.userId, frame.status, frame.seq));
        return;
      case 'typing':
        this.#applyTyping(frame.conversationId, frame.userId, frame.state === 'start');
        return;
      case 'presence':
        this.#presence.set(frame.userId, { status: frame.status, lastSeenAt: frame.lastSeenAt });
        this.#renderConversations();
        return;
      case 'call.signal':
        void this.#receiveCallSignal(frame);
        return;
      case 'error':
        this.#log('ws.error', { code: frame.error.code });
        return;
      default:
        return;
    }
  }

  async #applyReceipt(
    conversationId: string,
    userId: string,
    status: 'delivered' | 'read',
    seq: number,
  ): Promise<void> {
    if (userId === this.#userId) {
      // Another of our devices read the conversation: it is read here too.
      if (status === 'read' && seq > (this.#readMarkers.get(conversationId) ?? 0)) {
        this.#readMarkers.set(conversationId, seq);
        this.#renderConversations();
      }
      return;
    }
    for (const item of [...this.#conversationItems(conversationId).values()]) {
      if (item.senderId !== this.#userId || item.seq === null || item.kind !== 'message') continue;
      const applies = status === 'read' ? item.seq <= seq : item.seq === seq;
      if (applies && STATE_RANK[item.state] < STATE_RANK[status]) {
        item.state = status;
        await this.#saveItem(item, item.terms);
      }
    }
  }

  #applyTyping(conversationId: string, userId: string, typing: boolean): void {
    if (userId === this.#userId) return;
    const target = typingSignal(this.#state, conversationId);
    let timers = this.#typingTimers.get(conversationId);
    if (!timers) {
      timers = new Map();
      this.#typingTimers.set(conversationId, timers);
    }
    const existing = timers.get(userId);
    if (existing) clearTimeout(existing);
    timers.delete(userId);
    if (typing) {
      timers.set(
        userId,
        setTimeout(() => this.#applyTyping(conversationId, userId, false), TYPING_TTL_MS),
      );
    }
    target.value = [...timers.keys()];
  }

  async presenceOf(conversationId: string): Promise<void> {
    try {
      const { presence } = await this.#api.get<PresenceResponse>(`/conversations/${conversationId}/presence`);
      for (const p of presence) this.#presence.set(p.userId, { status: p.status, lastSeenAt: p.lastSeenAt });
      this.#renderConversations();
    } catch (error) {
      this.#log('presence.unavailable', { error: String(error) });
    }
  }

  /** Processes one timeline entry once: decrypt, apply, persist, then acknowledge. */
  async #ingest(conversationId: string, entry: TimelineEntry, options: { older?: boolean }): Promise<void> {
    const seenKey = `${conversationId}:${entry.seq}`;
    this.#log('entry.received', { conversationId, seq: entry.seq, type: entry.type });
    if (await this.#db.get(STORES.seen, seenKey)) {
      this.#log('entry.duplicate', { conversationId, seq: entry.seq });
      if (!options.older) this.#ack(conversationId, entry.seq);
      return;
    }
    if (entry.type === 'system') {
      await this.#ensureNames([entry.senderId, ...idsOf(entry.event)]);
      await this.#saveItem({
        ...blankItem(conversationId, `${conversationId}|#${entry.seq}`, entry.seq, entry.createdAt),
        kind: 'system',
        senderId: entry.senderId,
        text: systemText(entry.event, this.#nameOf),
      });
      await this.#db.put(STORES.seen, true, seenKey);
      if (!options.older) {
        this.#ack(conversationId, entry.seq);
        const e = entry.event;
        if (e.event === 'members_added' || e.event === 'member_removed' || e.event === 'member_left') {
          for (const id of idsOf(e)) this.#deviceCache.delete(id);
        }
        if ((e.event === 'created' || e.event === 'members_added') && isRecent(entry.createdAt)) {
          // Someone new is here: tell them the pictures (uploads are per conversation, so this one gets its own).
          void this.#announceAvatarsTo(conversationId).catch((error) =>
            this.#log('avatar.announce_failed', { conversationId, error: String(error) }),
          );
        }
        this.#scheduleConversationRefresh();
      }
      return;
    }
    if (entry.envelope === null) {
      // Ours (this device sent it), from before this device existed, or already received: nothing to decrypt.
      this.#log('entry.no_envelope', { conversationId, seq: entry.seq });
      return;
    }
    const sender = ProtocolAddress.of(entry.senderId, entry.senderDeviceId);
    let content: Content;
    try {
      const bytes = fromBase64(entry.envelope.ciphertext);
      let plaintext: Uint8Array;
      if (entry.envelope.type === 'sender_key') {
        plaintext = (await groupDecrypt(this.#stores.senderKeys, sender, bytes)).plaintext;
      } else {
        plaintext = await this.#openPairwise(sender, bytes);
      }
      content = decodeContent(plaintext);
    } catch (error) {
      await this.#decryptFailed(conversationId, entry, sender, error);
      return;
    }
    this.#log('entry.decrypted', { conversationId, seq: entry.seq, kind: content.kind });
    await this.#ensureName(entry.senderId);
    await this.#apply(conversationId, entry, sender, content);
    await this.#db.put(STORES.seen, true, seenKey);
    this.#ack(conversationId, entry.seq);
  }

  async #ensureNames(ids: readonly (string | null)[]): Promise<void> {
    for (const id of ids) if (id !== null && id !== this.#userId) await this.#ensureName(id);
  }

  async #apply(
    conversationId: string,
    entry: TimelineEntry & { type: 'message' },
    sender: ProtocolAddress,
    content: Content,
  ): Promise<void> {
    const mine = entry.senderId === this.#userId;
    switch (content.kind) {
      case 'text': {
        const existing = this.#findByContent(conversationId, content.id);
        if (existing) return; // a re-sent copy (or our own echo): never shown twice
        let seq = entry.seq;
        let at = entry.createdAt;
        if (content.resendOf !== undefined) {
          const failed = this.#conversationItems(conversationId).get(`${conversationId}|#${content.resendOf}`);
          if (failed?.decryptError && failed.senderId === entry.senderId) {
            seq = content.resendOf;
            at = failed.at;
            await this.#removeItem(failed);
          }
        }
        await this.#saveItem({
          ...blankItem(conversationId, `${conversationId}|${content.id}`, seq, at),
          contentId: content.id,
          senderId: entry.senderId,
          senderDeviceId: entry.senderDeviceId,
          text: content.text,
          replyTo: content.replyTo
            ? { contentId: content.replyTo.id, senderId: content.replyTo.senderId, excerpt: content.replyTo.excerpt }
            : null,
          state: mine ? 'sent' : 'sent',
          ...(content.attachments ? { attachments: content.attachments.map(storedOf) } : {}),
        });
        return;
      }
      case 'edit':
      case 'delete': {
        const target = this.#findByContent(conversationId, content.target);
        if (!target || target.senderId !== entry.senderId || target.call) return;
        const previous = target.terms;
        if (content.kind === 'edit') {
          target.text = content.text;
          target.edited = true;
        } else {
          target.text = '';
          target.deleted = true;
          target.attachments = [];
        }
        await this.#saveItem(target, previous);
        return;
      }
      case 'reaction': {
        const target = this.#findByContent(conversationId, content.target);
        if (!target) return;
        const users = (target.reactions[content.emoji] ?? []).filter((u) => u !== entry.senderId);
        target.reactions = { ...target.reactions, [content.emoji]: content.on ? [...users, entry.senderId] : users };
        await this.#saveItem(target, target.terms);
        return;
      }
      case 'call': {
        if (this.#findByContent(conversationId, content.id)) return;
        const call: CallEventView = {
          callId: content.callId,
          media: content.media,
          outcome: content.outcome,
          durationSeconds: content.durationSeconds,
        };
        await this.#saveItem({
          ...blankItem(conversationId, `${conversationId}|${content.id}`, entry.seq, entry.createdAt),
          contentId: content.id,
          senderId: entry.senderId,
          senderDeviceId: entry.senderDeviceId,
          text: callEventText(call, mine),
          call,
        });
        return;
      }
      case 'avatar': {
        const conv = this.#serverConvs.get(conversationId);
        const role = conv?.members.find((m) => m.userId === entry.senderId)?.role;
        if (content.scope === 'group' && (conv?.kind !== 'group' || (role !== 'owner' && role !== 'admin'))) return;
        const subject = content.scope === 'user' ? entry.senderId : conversationId;
        // In the background: a picture's download must not hold up the messages queued behind it.
        void this.#avatars
          ?.receive(subject, entry.createdAt, content.attachment)
          .catch((error) => this.#log('avatar.failed', { conversationId, error: String(error) }));
        return;
      }
      case 'sender_key':
        await processSenderKeyDistributionMessage(this.#stores.senderKeys, sender, fromBase64(content.distribution));
        this.#log('sender_key.received', { conversationId, from: sender.toString() });
        return;
      case 'resend_request': {
        if (content.device.userId !== this.#userId || content.device.deviceId !== this.#device.deviceId) return;
        const original = this.#findBySeq(conversationId, content.seq);
        this.#log('resend.requested', { conversationId, seq: content.seq, found: original !== undefined });
        if (
          original?.kind !== 'message' ||
          original.senderId !== this.#userId ||
          original.deleted ||
          !original.contentId
        ) {
          return;
        }
        // The requester may lack our sender key: make the next group send distribute it again.
        const group = await this.#db.get<GroupRecord>(STORES.groups, conversationId);
        if (group) {
          const requester = sender.toString();
          await this.#withGroupLock(conversationId, async () => {
            const current = (await this.#db.get<GroupRecord>(STORES.groups, conversationId)) ?? group;
            await this.#db.put(
              STORES.groups,
              { ...current, distributedTo: current.distributedTo.filter((d) => d !== requester) } satisfies GroupRecord,
              conversationId,
            );
          });
        }
        await this.#queueContent(conversationId, {
          v: 1,
          id: original.contentId,
          kind: 'text',
          text: original.text,
          resendOf: content.seq,
          // Inside the ciphertext only: the uploads were used by the original, which the server recorded.
          ...(refsOf(original)?.length ? { attachments: refsOf(original) ?? [] } : {}),
          ...(original.replyTo
            ? {
                replyTo: {
                  id: original.replyTo.contentId,
                  senderId: original.replyTo.senderId,
                  excerpt: original.replyTo.excerpt,
                },
              }
            : {}),
        });
        return;
      }
    }
  }

  async #decryptFailed(
    conversationId: string,
    entry: TimelineEntry & { type: 'message' },
    sender: ProtocolAddress,
    error: unknown,
  ): Promise<void> {
    const failure = describeFailure(error, entry.envelope?.type === 'sender_key');
    this.#log('decrypt.failed', { conversationId, seq: entry.seq, code: failure.code });
    await this.#ensureName(entry.senderId);
    const recoverable = failure.code !== 'untrusted_identity' && failure.code !== 'bad_content';
    const item: ItemRecord = {
      ...blankItem(conversationId, `${conversationId}|#${entry.seq}`, entry.seq, entry.createdAt),
      senderId: entry.senderId,
      senderDeviceId: entry.senderDeviceId,
      decryptError: { ...failure, recovering: recoverable },
    };
    await this.#saveItem(item);
    await this.#db.put(STORES.seen, true, `${conversationId}:${entry.seq}`);
    // The ciphertext cannot be decrypted later either: acknowledge it and ask for a copy instead.
    this.#ack(conversationId, entry.seq);
    if (!recoverable) return;
    const askKey = `${conversationId}:${entry.seq}`;
    if (this.#resendAsked.has(askKey)) return;
    this.#resendAsked.add(askKey);
    void this.#askResend(conversationId, entry.seq, sender, failure.code).catch((cause) => {
      this.#log('resend.request_failed', { error: String(cause) });
    });
  }

  async #askResend(
    conversationId: string,
    seq: number,
    sender: ProtocolAddress,
    code: DecryptErrorView['code'],
  ): Promise<void> {
    if (code !== 'no_sender_key') {
      // Pairwise session lost or broken: start a new one from the sender device's bundle.
      const { bundle } = await this.#api.get<PreKeyBundleResponse>(
        `/users/${sender.name}/devices/${sender.deviceId}/prekey-bundle`,
      );
      await startSession(this.#db, this.#stores, sender, bundleOf(bundle));
    }
    await this.#queueContent(conversationId, {
      v: 1,
      id: randomUuid(),
      kind: 'resend_request',
      seq,
      device: { userId: sender.name, deviceId: sender.deviceId },
    });
    this.#log('resend.asked', { conversationId, seq });
  }

  // ---------------------------------------------------------------- calls (the state machine is in calls.ts)

  get calls(): CallManager {
    if (!this.#calls) throw new EngineError('signed_out', 'Sign in first');
    return this.#calls;
  }

  #callPort(): CallPort {
    return {
      userId: this.#userId,
      deviceId: this.#device.deviceId,
      peerOf: (conversationId) => {
        const conv = this.#serverConvs.get(conversationId);
        const peer = conv?.kind === 'direct' ? conv.members.find((m) => m.userId !== this.#userId) : undefined;
        return peer ? { userId: peer.userId, displayName: peer.displayName } : null;
      },
      devicesOf: async (userId) => (await this.#devicesOf(userId, true)).map((d) => d.deviceId),
      send: (conversationId, callId, to, signal) => this.#sendCallSignal(conversationId, callId, to, signal),
      iceServers: () => this.#iceServers(),
      record: (conversationId, event) => this.#recordCall(conversationId, event),
      log: this.#log,
    };
  }

  /** One pairwise ciphertext per device (the same sessions as direct messages), relayed, never stored. */
  async #sendCallSignal(
    conversationId: string,
    callId: string,
    to: readonly DeviceAddress[],
    signal: CallSignal,
  ): Promise<void> {
    const plaintext = encodeCallSignal({ callId, conversationId, signal });
    const envelopes: Envelope[] = [];
    for (const device of to)
      envelopes.push(await this.#seal(ProtocolAddress.of(device.userId, device.deviceId), plaintext));
    // API Gateway's 32 KB frame limit: an offer's SDP is a few kB per device, so many devices take more frames.
    const frames: Envelope[][] = [[]];
    let size = 0;
    for (const envelope of envelopes) {
      const current = frames.at(-1) as Envelope[];
      if (current.length > 0 && size + envelope.ciphertext.length > WS_SEND_MAX_CHARS - 2000) {
        frames.push([envelope]);
        size = envelope.ciphertext.length;
      } else {
        current.push(envelope);
        size += envelope.ciphertext.length;
      }
    }
    for (const batch of frames) {
      const socket = this.#socket;
      if (!socket?.online) throw new EngineError('offline', 'Not connected');
      await socket.request({ action: 'call.signal', conversationId, callId, envelopes: batch });
    }
    this.#log('call.signal_sent', { type: signal.type, devices: envelopes.length });
  }

  async #receiveCallSignal(frame: ServerFrame & { type: 'call.signal' }): Promise<void> {
    const from = { userId: frame.fromUserId, deviceId: frame.fromDeviceId };
    let signal: CallSignal;
    try {
      if (frame.envelope.type === 'sender_key') throw new Error('call signals are pairwise');
      const sender = ProtocolAddress.of(from.userId, from.deviceId);
      const bound = decodeCallSignal(await this.#openPairwise(sender, fromBase64(frame.envelope.ciphertext)));
      if (bound.callId !== frame.callId || bound.conversationId !== frame.conversationId) {
        throw new Error('the signal was encrypted for another call or conversation');
      }
      signal = bound.signal;
    } catch (error) {
      this.#log('call.signal_rejected', { error: String(error) });
      return;
    }
    if (!this.#serverConvs.has(frame.conversationId)) await this.refreshConversations().catch(() => undefined);
    this.#calls?.receive(from, frame.conversationId, frame.callId, signal);
  }

  /** `GET /calls/ice-servers`, kept until a minute before the TURN credentials expire. */
  async #iceServers(): Promise<RTCIceServer[]> {
    const cached = this.#iceCache;
    if (cached && cached.until > Date.now()) return cached.servers;
    const answer = IceServersResponseSchema.parse(await this.#api.get('/calls/ice-servers'));
    const servers: RTCIceServer[] = answer.iceServers.map((s) => ({
      urls: s.urls,
      ...(s.username !== undefined ? { username: s.username } : {}),
      ...(s.credential !== undefined ? { credential: s.credential } : {}),
    }));
    const until = answer.expiresAt ? Date.parse(answer.expiresAt) - 60_000 : Date.now() + 10 * 60_000;
    this.#iceCache = { servers, until };
    return servers;
  }

  /** The caller's call event: a `call` content item through the outbox, like a message. */
  async #recordCall(conversationId: string, event: CallEventView): Promise<void> {
    const contentId = randomUuid();
    const now = Date.now();
    await this.#saveItem({
      ...blankItem(conversationId, `${conversationId}|${contentId}`, null, new Date(now).toISOString()),
      contentId,
      senderId: this.#userId,
      senderDeviceId: this.#device.deviceId,
      text: callEventText(event, true),
      call: event,
      state: 'sending',
    });
    await this.#queueContent(conversationId, { v: 1, id: contentId, kind: 'call', ...event });
  }

  async #callEventSent(conversationId: string, contentId: string, stored: SendMessageResponse): Promise<void> {
    const item = this.#findByContent(conversationId, contentId);
    if (!item) return;
    item.seq = stored.seq;
    item.at = stored.createdAt;
    if (STATE_RANK[item.state] < STATE_RANK.sent) item.state = 'sent';
    await this.#saveItem(item, item.terms);
  }

  // ---------------------------------------------------------------- safety numbers

  async #observeKeys(userId: string, devices: readonly PublicDevice[]): Promise<TrustRecord> {
    const keys = devices.map((d) => `${d.deviceId}:${d.identityKey}`).sort();
    const stored = await this.#db.get<TrustRecord & { userId: string }>(STORES.trust, userId);
    let record: TrustRecord;
    if (!stored) {
      record = { keys, verifiedKeys: null, changed: false };
    } else if (sameList(stored.keys, keys)) {
      return stored;
    } else {
      // A known device with a different key is always a warning; new or removed devices only for a verified contact.
      const knownIds = new Map(stored.keys.map((k) => [k.split(':')[0], k]));
      const keyChanged = keys.some((k) => {
        const before = knownIds.get(k.split(':')[0]);
        return before !== undefined && before !== k;
      });
      const wasVerified = stored.verifiedKeys !== null && sameList(stored.verifiedKeys, stored.keys);
      record = { keys, verifiedKeys: stored.verifiedKeys, changed: stored.changed || keyChanged || wasVerified };
    }
    await this.#db.put(STORES.trust, { ...record, userId }, userId);
    this.#setTrust(userId, record);
    return record;
  }

  #setTrust(userId: string, record: TrustRecord): void {
    const view: TrustView = {
      verified: record.verifiedKeys !== null && sameList(record.verifiedKeys, record.keys),
      identityChanged: record.changed,
    };
    this.#state.trust.value = { ...this.#state.trust.value, [userId]: view };
  }

  async #fingerprint(userId: string): Promise<{ fingerprint: Fingerprint; record: TrustRecord }> {
    if (userId === this.#userId) throw new EngineError('invalid', 'A safety number is between you and someone else');
    const mine = (await this.#devicesOf(this.#userId, true)).map((d) => d.identityKey);
    const theirs = await this.#devicesOf(userId, true);
    const record = await this.#observeKeys(userId, theirs);
    const concat = (keys: readonly string[]) => {
      const parts = [...keys].sort().map((k) => IdentityKey.deserialize(fromBase64(k)).serialize());
      const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const p of parts) {
        out.set(p, offset);
        offset += p.length;
      }
      return out;
    };
    const utf8 = new TextEncoder();
    const fingerprint = Fingerprint.fromSerializedKeys({
      localId: utf8.encode(this.#userId),
      localKey: concat(mine),
      remoteId: utf8.encode(userId),
      remoteKey: concat(theirs.map((d) => d.identityKey)),
    });
    return { fingerprint, record };
  }

  async safetyNumber(userId: string): Promise<SafetyNumberView> {
    const { fingerprint, record } = await this.#fingerprint(userId);
    const digits = fingerprint.displayString;
    return {
      userId,
      digits,
      groups: digits.match(/\d{5}/g) ?? [],
      qrPayload: toBase64(fingerprint.scannable.serialize()),
      verified: record.verifiedKeys !== null && sameList(record.verifiedKeys, record.keys),
      identityChanged: record.changed,
      sessions: await sessionKinds(
        this.#stores,
        (await this.#devicesOf(userId)).map((d) => ProtocolAddress.of(userId, d.deviceId)),
      ),
    };
  }

  async compareScanned(userId: string, scannedBase64: string): Promise<boolean> {
    const { fingerprint } = await this.#fingerprint(userId);
    try {
      return fingerprint.scannable.compare(fromBase64(scannedBase64));
    } catch {
      return false;
    }
  }

  async markVerified(userId: string, verified: boolean): Promise<void> {
    const { record } = await this.#fingerprint(userId);
    const next: TrustRecord = { keys: record.keys, verifiedKeys: verified ? record.keys : null, changed: false };
    await this.#db.put(STORES.trust, { ...next, userId }, userId);
    this.#setTrust(userId, next);
  }

  async acknowledgeIdentityChange(userId: string): Promise<void> {
    const stored = await this.#db.get<TrustRecord>(STORES.trust, userId);
    if (!stored) return;
    const next = { ...stored, changed: false };
    await this.#db.put(STORES.trust, { ...next, userId }, userId);
    this.#setTrust(userId, next);
  }

  // ---------------------------------------------------------------- search

  async search(query: string): Promise<SearchHit[]> {
    const terms = tokenize(query);
    if (terms.length === 0) return [];
    let keys: Set<string> | undefined;
    for (const term of terms) {
      const postings = await this.#db.getAll<{ term: string; key: string }>(
        STORES.postings,
        IDBKeyRange.bound([term], [`${term}\uffff`]),
      );
      const found = new Set(postings.map((p) => p.key));
      const previous: Set<string> | undefined = keys;
      keys = previous === undefined ? found : new Set([...previous].filter((k) => found.has(k)));
      if (keys.size === 0) return [];
    }
    const hits: SearchHit[] = [];
    for (const key of keys ?? []) {
      const item = await this.#db.get<ItemRecord>(STORES.items, key);
      if (!item || item.deleted || !item.contentId) continue;
      hits.push({
        conversationId: item.conversationId,
        contentId: item.contentId,
        seq: item.seq,
        senderName: this.#nameOf(item.senderId),
        snippet: snippet(item.text, terms),
        at: item.at,
      });
    }
    return hits.sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 50);
  }
}

// ---------------------------------------------------------------- helpers

/** The references of an item's files; null when an upload never finished. */
function refsOf(item: ItemRecord): AttachmentRef[] | null {
  const refs: AttachmentRef[] = [];
  for (const file of item.attachments ?? []) {
    if (!file.ref) return null;
    refs.push(file.ref);
  }
  return refs;
}

/** What the server checks: every upload a message names, files and thumbnails. */
function attachmentIdsOf(refs: readonly AttachmentRef[]): string[] {
  return refs.flatMap((r) => (r.thumbnail ? [r.id, r.thumbnail.id] : [r.id]));
}

/** A system event from the last ten minutes (not one replayed from history by a new device). */
const isRecent = (iso: string) => Date.now() - Date.parse(iso) < 10 * 60_000;

const jpeg = (bytes: Uint8Array) => new Blob([bytes as BlobPart], { type: 'image/jpeg' });

function blankItem(conversationId: string, key: string, seq: number | null, at: string): ItemRecord {
  return {
    key,
    conversationId,
    contentId: null,
    seq,
    kind: 'message',
    senderId: null,
    senderDeviceId: 0,
    at,
    localTime: Date.now(),
    text: '',
    replyTo: null,
    reactions: {},
    edited: false,
    deleted: false,
    state: 'sent',
    decryptError: null,
    terms: [],
  };
}

function idsOf(
  event: TimelineEntry extends infer E ? (E extends { type: 'system'; event: infer V } ? V : never) : never,
): string[] {
  switch (event.event) {
    case 'created':
      return event.memberIds;
    case 'members_added':
      return event.userIds;
    case 'member_removed':
    case 'member_left':
    case 'role_changed':
      return [event.userId];
    default:
      return [];
  }
}

function bundleOf(json: PreKeyBundleJson): PreKeyBundle {
  return PreKeyBundle.create({
    registrationId: json.registrationId,
    deviceId: json.deviceId,
    identityKey: IdentityKey.deserialize(fromBase64(json.identityKey)),
    signedPreKeyId: json.signedPreKey.keyId,
    signedPreKey: PublicKey.deserialize(fromBase64(json.signedPreKey.publicKey)),
    signedPreKeySignature: fromBase64(json.signedPreKey.signature),
    preKeyId: json.preKey?.keyId,
    preKey: json.preKey ? PublicKey.deserialize(fromBase64(json.preKey.publicKey)) : undefined,
    ...pqBundleFields(json),
  });
}

function describeFailure(error: unknown, senderKey: boolean): Omit<DecryptErrorView, 'recovering'> {
  if (isCryptoError(error)) {
    switch (error.code) {
      case CryptoErrorCode.NoSession:
      case CryptoErrorCode.InvalidKeyId:
        return { code: 'no_session', reason: 'This device had no encryption session with the sender' };
      case CryptoErrorCode.UntrustedIdentity:
        return {
          code: 'untrusted_identity',
          reason: "The sender's safety number changed; verify it before trusting new messages",
        };
      case CryptoErrorCode.NoSenderKeyState:
        return { code: 'no_sender_key', reason: "This device has not received the sender's group key" };
      // An entry never processed here whose key was already used: the sender's state and ours disagree.
      case CryptoErrorCode.DuplicateMessage:
        return senderKey
          ? { code: 'no_sender_key', reason: "The sender's group key on this device is out of date" }
          : { code: 'invalid_message', reason: 'This device already used the key of this message' };
      case CryptoErrorCode.InvalidSignature:
        return senderKey
          ? { code: 'no_sender_key', reason: "The sender's group key on this device is out of date" }
          : { code: 'invalid_message', reason: 'The message failed its integrity check' };
      default:
        return { code: 'invalid_message', reason: 'The message could not be decrypted on this device' };
    }
  }
  if (
    error instanceof SyntaxError ||
    (error instanceof Error && error.name === 'ZodError') ||
    error instanceof RangeError
  ) {
    return { code: 'bad_content', reason: 'The message was decrypted but its content is not understood (newer app?)' };
  }
  return { code: 'unknown', reason: 'The message could not be decrypted' };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function defaultDeviceName(): string {
  const agent = globalThis.navigator?.userAgent ?? '';
  const browser = /Firefox\//.test(agent)
    ? 'Firefox'
    : /Edg\//.test(agent)
      ? 'Edge'
      : /Chrome\//.test(agent)
        ? 'Chrome'
        : /Safari\//.test(agent)
          ? 'Safari'
          : 'Browser';
  return `${browser} (web)`.slice(0, 64);
}

export type { MemberRole };
