/**
 * The engine's core, loaded with a dynamic `import()` after sign-in (it pulls in libsodium and the protocol
 * schemas). This file is the composition root: it builds the stages and wires them, and routes what arrives
 * (socket frames, decrypted content kinds) to the stage that handles it. The work is in the stages:
 *
 * - `local-store.ts`: everything kept in the browser (IndexedDB; memory in tests)
 * - `device.ts`: the tab lock, this device's keys and registration, prekey top-up and rotation
 * - `directory.ts`: conversations, members, names, device lists, presence
 * - `timeline.ts`, `timeline-view.ts`: the items, one function per content kind, the views the UI reads
 * - `outbox.ts`: the persistent queue of what to send; `sender.ts`: encryption for devices and transport
 * - `receiver.ts`: the ordered queue of what arrives, decryption, acks, decrypt-failure recovery
 * - `trust.ts`: safety numbers and observed identity keys
 * - `typing.ts`, `call-link.ts`, `file-sends.ts`, `avatar-sends.ts`: the smaller flows
 */
import {
  ProtocolAddress as Address,
  initCrypto,
  type ProtocolAddress,
  processSenderKeyDistributionMessage,
} from '@ciphertalk/shared/crypto';
import type { Conversation, ServerFrame, SystemEvent, TimelineEntry } from '@ciphertalk/shared/protocol';
import type { ApiClient } from './api-client.ts';
import { AttachmentTransport, TransferBoard } from './attachments.ts';
import { AvatarSends } from './avatar-sends.ts';
import { Avatars } from './avatars.ts';
import { fromBase64 } from './base64.ts';
import { CallLink } from './call-link.ts';
import { CallManager } from './calls.ts';
import { type Content, encodeContent } from './content.ts';
import { Device, holdDeviceLock } from './device.ts';
import { Directory } from './directory.ts';
import { EngineError } from './errors.ts';
import { attachmentIdsOf, FileSends } from './file-sends.ts';
import type { DeviceStores } from './keystore.ts';
import type { Change, LocalStore } from './local-store.ts';
import { openIndexedDbStore } from './local-store.ts';
import { Outbox } from './outbox.ts';
import { rememberPostQuantumDevices } from './pq-keys.ts';
import { Receiver } from './receiver.ts';
import { Sender } from './sender.ts';
import { Socket } from './socket.ts';
import type { EngineState } from './state.ts';
import { deleted, edited, PAGE, reacted, refsOf, Timeline, textContentOf } from './timeline.ts';
import { Trust } from './trust.ts';
import type {
  EngineConfig,
  MemberRole,
  MessageRef,
  SafetyNumberView,
  SearchHit,
  WebSocketConstructor,
} from './types.ts';
import { Typing } from './typing.ts';

export interface CoreDeps {
  api: ApiClient;
  config: EngineConfig;
  state: EngineState;
  userId: string;
  log: (event: string, detail?: Record<string, unknown>) => void;
}

type MessageEntry = TimelineEntry & { type: 'message' };
type SystemEntry = TimelineEntry & { type: 'system' };

const randomUuid = () => globalThis.crypto.randomUUID();

/** A system event from the last ten minutes (not one replayed from history by a new device). */
const isRecent = (iso: string) => Date.now() - Date.parse(iso) < 10 * 60_000;

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
  readonly #deps: CoreDeps;
  readonly #log: CoreDeps['log'];
  readonly #transfers: TransferBoard;
  readonly #transport: AttachmentTransport;
  readonly #directory: Directory;
  readonly #typing: Typing;
  #store!: LocalStore;
  #device!: Device;
  #me!: ProtocolAddress;
  #stores!: DeviceStores;
  #trust!: Trust;
  #timeline!: Timeline;
  #outbox!: Outbox;
  #sender!: Sender;
  #receiver!: Receiver;
  #files!: FileSends;
  #avatars: Avatars | null = null;
  #avatarSends!: AvatarSends;
  #calls: CallManager | null = null;
  #callLink!: CallLink;
  #socket: Socket | null = null;
  #releaseLock: (() => void) | null = null;
  #closed = false;
  #refreshTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #presenceAsked = new Set<string>();

  constructor(deps: CoreDeps) {
    this.#deps = deps;
    this.#log = deps.log;
    this.#transfers = new TransferBoard(deps.state);
    this.#transport = new AttachmentTransport(deps.api, deps.config.fetch ?? globalThis.fetch.bind(globalThis));
    this.#directory = new Directory({
      api: deps.api,
      userId: deps.userId,
      log: deps.log,
      onChange: (conversationId) =>
        conversationId === null ? this.#timeline?.renderAll() : this.#timeline?.render(conversationId),
      onDevices: async (userId, devices) => {
        await rememberPostQuantumDevices(this.#store, userId, devices);
        if (userId !== deps.userId) await this.#trust.observe(userId, devices);
      },
    });
    this.#typing = new Typing({ state: deps.state, userId: deps.userId, socket: () => this.#socket });
  }

  get deviceId(): number {
    return this.#device.current.deviceId;
  }

  get calls(): CallManager {
    if (!this.#calls) throw new EngineError('signed_out', 'Sign in first');
    return this.#calls;
  }

  // ---------------------------------------------------------------- start and stop

  async start(): Promise<void> {
    const { api, config, state, userId } = this.#deps;
    const log = this.#log;
    const factory = config.indexedDB ?? globalThis.indexedDB;
    if (!factory) throw new EngineError('unsupported', 'This browser has no IndexedDB');
    this.#releaseLock = await holdDeviceLock(userId);
    const store = await openIndexedDbStore(factory, dbName(config, userId));
    this.#store = store;
    this.#device = new Device({ api, store, deviceName: config.deviceName, log });
    const device = await this.#device.ensure();
    const stores = store.cryptoStores(this.#device.identity, device.registrationId);
    this.#stores = stores;
    this.#me = Address.of(userId, device.deviceId);
    const devicesOf = (id: string) => this.#directory.devicesOf(id, true);
    this.#trust = new Trust({ store, state, userId, devicesOf, stores });
    this.#timeline = new Timeline({ store, state, userId, directory: this.#directory });
    const write = (change: Change) => this.#timeline.write(change);
    const socket = () => this.#socket;
    this.#sender = new Sender({ api, socket, directory: this.#directory, store, stores, me: this.#me, log });
    this.#outbox = new Outbox({
      jobs: () => store.outbox(),
      write,
      send: (job) =>
        this.#sender.send(job.conversationId, encodeContent(job.content), job.clientMessageId, job.attachmentIds),
      sent: (job, stored) => this.#timeline.sent(job.conversationId, job.content, stored),
      failed: (job) => this.#timeline.failed(job.conversationId, job.content),
      log,
    });
    const queue = (conversationId: string, content: Content, attachmentIds: string[] = [], with_: Change = {}) =>
      this.#outbox.queue(conversationId, content, attachmentIds, with_);
    this.#receiver = new Receiver({
      api,
      socket,
      store,
      stores,
      directory: this.#directory,
      log,
      write,
      apply: (conversationId, entry, sender, content) => this.#apply(conversationId, entry, sender, content),
      system: (conversationId, entry, older) => this.#system(conversationId, entry, older),
      undecryptable: (conversationId, entry, error) => this.#timeline.undecryptable(conversationId, entry, error),
      queue: (conversationId, content) => queue(conversationId, content),
      usedPreKey: () => void this.#device.topUpPreKeys().catch(() => undefined),
      closed: () => this.#closed,
    });
    this.#files = new FileSends({
      timeline: this.#timeline,
      transport: this.#transport,
      transfers: this.#transfers,
      deviceId: () => this.deviceId,
      queue,
      closed: () => this.#closed,
      log,
    });
    await this.#timeline.load();
    await this.#trust.load();
    this.#avatars = new Avatars(store, state, this.#transport, log);
    this.#avatarSends = new AvatarSends({
      avatars: this.#avatars,
      transport: this.#transport,
      directory: this.#directory,
      userId,
      queue,
    });
    await this.#avatars.load().catch((error) => log('avatars.load_failed', { error: String(error) }));
    await this.refreshConversations();
    await this.refreshDevices().catch((error) => log('devices.refresh_failed', { error: String(error) }));
    await this.#device.topUpPreKeys().catch((error) => log('prekeys.topup_failed', { error: String(error) }));
    await this.#device
      .rotateSignedPreKeyIfStale(stores.signedPreKeys)
      .catch((error) => log('signed_prekey.rotation_failed', { error: String(error) }));
    this.#callLink = new CallLink({
      api,
      socket,
      directory: this.#directory,
      userId,
      deviceId: device.deviceId,
      seal: (addresses, plaintext) => this.#sender.seal(addresses, plaintext),
      open: (sender, bytes) => this.#receiver.openPairwise(sender, bytes),
      record: (conversationId, event) => {
        const contentId = randomUuid();
        const item = this.#timeline.localCall(conversationId, contentId, this.deviceId, event);
        return queue(conversationId, { v: 1, id: contentId, kind: 'call', ...event }, [], { put: [{ item }] });
      },
      log,
    });
    this.#calls = new CallManager(this.#callLink.port(), state.call, state.callStats, config);
    this.#startSocket();
    // Browsers tell when the network is back: reconnect and send at once instead of waiting for the backoff.
    if (typeof globalThis.addEventListener === 'function') globalThis.addEventListener('online', this.#onOnline);
    await this.catchUp();
    void this.flush();
    // The conversation list shows the peer's presence: ask once for the most recent direct conversations.
    for (const conv of this.#directory.conversations.filter((c) => c.kind === 'direct').slice(0, 20)) {
      this.#askPresence(conv.id);
    }
  }

  #startSocket(): void {
    const { api, config, state } = this.#deps;
    const WS = config.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor | undefined);
    if (!WS) return;
    this.#socket = new Socket({
      url: config.wsUrl,
      WebSocket: WS,
      ticket: async () => (await api.call('POST /auth/ws-ticket')).ticket,
      onFrame: (frame) => this.#onFrame(frame),
      onOpen: () => {
        void this.catchUp();
        void this.flush();
      },
      onState: (next) => {
        state.connection.value = next;
      },
      retry: {
        onRetrying: (waiting) => {
          state.retrying.value += waiting ? 1 : -1;
        },
      },
      log: this.#log,
    });
    this.#socket.start();
  }

  readonly #onOnline = () => {
    void this.refresh();
  };

  async close(): Promise<void> {
    this.#closed = true;
    this.#calls?.dispose();
    if (typeof globalThis.removeEventListener === 'function') globalThis.removeEventListener('online', this.#onOnline);
    this.#socket?.stop();
    this.#socket = null;
    if (this.#refreshTimer) clearTimeout(this.#refreshTimer);
    this.#typing.close();
    await this.#receiver?.close();
    await this.#outbox?.close();
    this.#files?.close();
    this.#avatars?.clear();
    this.#store?.close();
    this.#releaseLock?.();
    this.#releaseLock = null;
  }

  /** Logout: this device stops existing (server and browser), so nobody encrypts for it any more. */
  async retire(): Promise<void> {
    await this.#device.retire();
    await this.discard();
  }

  /**
   * Forgets this browser's keys and history without telling the server (its session is already gone, as
   * after logout-all): the device stays listed until revoked from another device's Devices page.
   */
  async discard(): Promise<void> {
    await this.close();
    await this.#store.destroy();
  }

  // ---------------------------------------------------------------- what arrives

  #onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'entry':
        this.#receiver.onEntry(frame);
        return;
      case 'receipt':
        void this.#receiver.enqueue(async () => {
          const change = this.#timeline.receipt(frame.conversationId, frame.userId, frame.status, frame.seq);
          if (change) await this.#timeline.write(change);
        });
        return;
      case 'typing':
        this.#typing.receive(frame.conversationId, frame.userId, frame.state === 'start');
        return;
      case 'presence':
        this.#directory.setPresence(frame.userId, { status: frame.status, lastSeenAt: frame.lastSeenAt });
        return;
      case 'call.signal':
        void this.#callLink.receive(this.#calls, frame);
        return;
      case 'error':
        this.#log('ws.error', { code: frame.error.code });
        return;
      default:
        return;
    }
  }

  /** A system event: its item; news of members also refreshes device lists, pictures and the list. */
  async #system(conversationId: string, entry: SystemEntry, older: boolean): Promise<Change> {
    await this.#directory.ensureNames([entry.senderId, ...idsOf(entry.event)]);
    if (!older) {
      const e = entry.event;
      if (e.event === 'members_added' || e.event === 'member_removed' || e.event === 'member_left') {
        this.#directory.forgetDevices(idsOf(e));
      }
      if ((e.event === 'created' || e.event === 'members_added') && isRecent(entry.createdAt)) {
        // Someone new is here: tell them the pictures (uploads are per conversation, so this one gets its own).
        void this.#avatarSends
          .announceTo(conversationId)
          .catch((error) => this.#log('avatar.announce_failed', { conversationId, error: String(error) }));
      }
      this.#scheduleConversationRefresh();
    }
    return this.#timeline.system(conversationId, entry);
  }

  /** What a decrypted content item does, by kind. */
  async #apply(conversationId: string, entry: MessageEntry, sender: ProtocolAddress, content: Content) {
    const timeline = this.#timeline;
    switch (content.kind) {
      case 'text':
        return timeline.text(conversationId, entry, content);
      case 'edit':
      case 'delete':
        return timeline.editOrDelete(conversationId, entry, content);
      case 'reaction':
        return timeline.reaction(conversationId, entry, content);
      case 'call':
        return timeline.call(conversationId, entry, content);
      case 'avatar': {
        const conv = this.#directory.known(conversationId);
        const role = conv?.members.find((m) => m.userId === entry.senderId)?.role;
        if (content.scope === 'group' && (conv?.kind !== 'group' || (role !== 'owner' && role !== 'admin'))) return {};
        const subject = content.scope === 'user' ? entry.senderId : conversationId;
        // In the background: a picture's download must not hold up the messages queued behind it.
        void this.#avatars
          ?.receive(subject, entry.createdAt, content.attachment)
          .catch((error) => this.#log('avatar.failed', { conversationId, error: String(error) }));
        return {};
      }
      case 'sender_key':
        await processSenderKeyDistributionMessage(this.#stores.senderKeys, sender, fromBase64(content.distribution));
        this.#log('sender_key.received', { conversationId, from: sender.toString() });
        return {};
      case 'resend_request':
        await this.#resend(conversationId, sender, content);
        return {};
    }
  }

  /** Another device could not decrypt one of ours: it gets a copy, re-encrypted from the local item. */
  async #resend(conversationId: string, requester: ProtocolAddress, content: Content & { kind: 'resend_request' }) {
    if (!this.#me.equals(Address.of(content.device.userId, content.device.deviceId))) return;
    const original = this.#timeline.findBySeq(conversationId, content.seq);
    this.#log('resend.requested', { conversationId, seq: content.seq, found: original !== undefined });
    if (original?.kind !== 'message' || original.senderId !== this.#deps.userId) return;
    if (original.deleted || !original.contentId) return;
    // The requester may lack our sender key: make the next group send distribute it again.
    await this.#sender.redistributeTo(conversationId, requester);
    // Inside the ciphertext only: the uploads were used by the original, which the server recorded.
    await this.#outbox.queue(
      conversationId,
      textContentOf(original as typeof original & { contentId: string }, { resendOf: content.seq }),
    );
  }

  // ---------------------------------------------------------------- conversations, devices

  async refreshConversations(): Promise<void> {
    await this.#directory.refresh();
  }

  #scheduleConversationRefresh(): void {
    if (this.#refreshTimer || this.#closed) return;
    this.#refreshTimer = setTimeout(() => {
      this.#refreshTimer = null;
      void this.refreshConversations().catch((error) =>
        this.#log('conversations.refresh_failed', { error: String(error) }),
      );
    }, 200);
  }

  async refreshDevices(): Promise<void> {
    const { devices } = await this.#deps.api.call('GET /devices');
    this.#deps.state.devices.value = devices.map((d) => ({
      deviceId: d.deviceId,
      name: d.name,
      createdAt: d.createdAt,
      lastSeenAt: d.lastSeenAt,
      current: d.current,
      preKeysRemaining: d.preKeysRemaining,
    }));
  }

  async adoptConversation(conversation: Conversation): Promise<void> {
    this.#directory.adopt(conversation);
  }

  async afterMembershipChange(): Promise<void> {
    await this.refreshConversations();
    await this.catchUp();
  }

  forgetConversation(conversationId: string): void {
    this.#directory.forget(conversationId);
  }

  rememberName(userId: string, displayName: string): void {
    this.#directory.rememberName(userId, displayName);
  }

  // ---------------------------------------------------------------- reading

  #askPresence(conversationId: string): void {
    if (this.#presenceAsked.has(conversationId)) return;
    this.#presenceAsked.add(conversationId);
    void this.#directory.loadPresence(conversationId);
  }

  timeline(conversationId: string): void {
    this.#askPresence(conversationId);
    this.#timeline.open(conversationId);
  }

  async loadOlder(conversationId: string): Promise<void> {
    const before = this.#timeline.growWindow(conversationId);
    if (before !== null) {
      this.#timeline.setLoadingOlder(conversationId, true);
      try {
        const page = await this.#receiver.pageBack(conversationId, before, PAGE);
        this.#timeline.pagedBack(conversationId, page);
      } finally {
        this.#timeline.setLoadingOlder(conversationId, false);
      }
    }
    this.#timeline.render(conversationId);
  }

  async markRead(conversationId: string): Promise<void> {
    const seq = this.#timeline.readUpTo(conversationId);
    if (seq === null || seq === 0) return;
    const api = this.#deps.api;
    const rest = () =>
      api.call('POST /conversations/{conversationId}/read', { path: { conversationId }, body: { seq } });
    try {
      if (this.#socket?.online) await this.#socket.request({ action: 'receipt.read', conversationId, seq });
      else await rest();
    } catch (error) {
      // The realtime route may refuse (older server): the REST marker still moves.
      await rest().catch(() => undefined);
      this.#log('read.ws_failed', { error: String(error) });
    }
  }

  setTyping(conversationId: string, typing: boolean): void {
    this.#typing.set(conversationId, typing);
  }

  /** Reconnect now if disconnected, send what is queued, fetch what is waiting. */
  async refresh(): Promise<void> {
    this.#socket?.kick();
    await this.catchUp();
    await this.flush();
  }

  catchUp(): Promise<void> {
    return this.#receiver.catchUp();
  }

  flush(): Promise<void> {
    return this.#outbox.flush();
  }

  search(query: string): Promise<SearchHit[]> {
    return this.#timeline.search(query);
  }

  // ---------------------------------------------------------------- sending: local echo and outbox job in one write

  async send(conversationId: string, text: string, replyTo?: MessageRef): Promise<MessageRef> {
    const trimmed = text.trim();
    if (trimmed.length === 0) throw new EngineError('empty', 'Nothing to send');
    this.setTyping(conversationId, false);
    const contentId = randomUuid();
    const { item, content } = this.#timeline.localText(conversationId, contentId, trimmed, this.deviceId, replyTo);
    await this.#outbox.queue(conversationId, content, [], { put: [{ item }] });
    return { conversationId, contentId };
  }

  async edit(ref: MessageRef, text: string): Promise<void> {
    const item = this.#timeline.own(ref);
    const trimmed = text.trim();
    if (trimmed.length === 0) throw new EngineError('empty', 'An edit needs text; delete the message instead');
    const content: Content = { v: 1, id: randomUuid(), kind: 'edit', target: ref.contentId, text: trimmed };
    await this.#outbox.queue(ref.conversationId, content, [], { put: [{ item: edited(item, trimmed) }] });
  }

  async deleteForEveryone(ref: MessageRef): Promise<void> {
    const item = this.#timeline.own(ref);
    const content: Content = { v: 1, id: randomUuid(), kind: 'delete', target: ref.contentId };
    await this.#outbox.queue(ref.conversationId, content, [], { put: [{ item: deleted(item) }] });
  }

  async react(ref: MessageRef, emoji: string): Promise<void> {
    const item = this.#timeline.find(ref.conversationId, ref.contentId);
    if (item?.kind !== 'message') throw new EngineError('not_found', 'No such message');
    const on = !(item.reactions[emoji] ?? []).includes(this.#deps.userId);
    const content: Content = { v: 1, id: randomUuid(), kind: 'reaction', target: ref.contentId, emoji, on };
    const next = reacted(item, this.#deps.userId, emoji, on);
    await this.#outbox.queue(ref.conversationId, content, [], { put: [{ item: next }] });
  }

  async retry(ref: MessageRef): Promise<void> {
    const item = this.#timeline.own(ref);
    if (item.state !== 'failed') return;
    if (this.#files.retry(item, ref)) return;
    const refs = refsOf(item) ?? [];
    await this.#outbox.queue(ref.conversationId, textContentOf(item), attachmentIdsOf(refs), {
      put: [{ item: { ...item, state: 'sending' } }],
    });
  }

  // ---------------------------------------------------------------- files and pictures

  async sendFiles(conversationId: string, files: readonly File[], text = ''): Promise<MessageRef> {
    if (files.length === 0) return this.send(conversationId, text);
    this.setTyping(conversationId, false);
    return this.#files.send(conversationId, randomUuid(), files, text.trim());
  }

  async cancelUpload(ref: MessageRef): Promise<void> {
    this.#files.cancel(ref);
  }

  download(ref: MessageRef, index: number): Promise<string> {
    return this.#files.download(ref, index);
  }

  thumbnail(ref: MessageRef, index: number): Promise<string | null> {
    return this.#files.thumbnail(ref, index);
  }

  cancelDownload(ref: MessageRef, index: number): void {
    this.#files.cancelDownload(ref, index);
  }

  setMyAvatar(file: File | null): Promise<void> {
    return this.#avatarSends.setMine(file);
  }

  setGroupAvatar(conversationId: string, file: File | null): Promise<void> {
    return this.#avatarSends.setGroup(conversationId, file);
  }

  // ---------------------------------------------------------------- trust

  safetyNumber(userId: string): Promise<SafetyNumberView> {
    return this.#trust.safetyNumber(userId);
  }

  compareScanned(userId: string, scannedBase64: string): Promise<boolean> {
    return this.#trust.compareScanned(userId, scannedBase64);
  }

  markVerified(userId: string, verified: boolean): Promise<void> {
    return this.#trust.markVerified(userId, verified);
  }

  acknowledgeIdentityChange(userId: string): Promise<void> {
    return this.#trust.acknowledgeIdentityChange(userId);
  }
}

/** The users a system event names. */
function idsOf(event: SystemEvent): string[] {
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

export type { MemberRole };
