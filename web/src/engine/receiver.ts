/**
 * Receiving (Signal-Desktop's `MessageReceiver`, matrix-js-sdk's `sync.ts`): one ordered queue for live
 * `entry` frames, `GET /sync` pages (at start and on every reconnect) and each conversation's timeline gap
 * (`?after=` the last seq seen). An entry is processed once (the store's processed entries), decrypted,
 * applied (through the `apply` callbacks: the timeline and the content kinds that are not timeline items),
 * written in one transaction with its processed marker, then acknowledged (`message.ack`, or `POST /sync/ack`).
 *
 * A decrypt failure becomes an undecryptable item; for a pairwise failure a new session is made from the
 * sender device's bundle, and (for group failures too) a `resend_request` asks that device for a copy.
 */
import {
  CryptoErrorCode,
  groupDecrypt,
  isCryptoError,
  ProtocolAddress,
  SessionCipher,
} from '@ciphertalk/shared/crypto';
import type { ServerFrame, TimelineEntry } from '@ciphertalk/shared/protocol';
import type { ApiClient, CallOutput } from './api-client.ts';
import { fromBase64 } from './base64.ts';
import { Coalesced } from './coalesce.ts';
import { type Content, decodeContent } from './content.ts';
import type { Directory } from './directory.ts';
import type { DeviceStores } from './keystore.ts';
import { andProcessed, type Change, type LocalStore } from './local-store.ts';
import { startSession } from './pq-keys.ts';
import { keyDirectory } from './sender.ts';
import type { Socket } from './socket.ts';
import type { DecryptErrorView } from './types.ts';

type MessageEntry = TimelineEntry & { type: 'message' };
type SystemEntry = TimelineEntry & { type: 'system' };

const SYNC_PAGE = 200;
const ACK_BATCH = 500;

export interface ReceiverDeps {
  readonly api: ApiClient;
  readonly socket: () => Socket | null;
  readonly store: LocalStore;
  readonly stores: DeviceStores;
  readonly directory: Directory;
  readonly log: (event: string, detail?: Record<string, unknown>) => void;
  /** Writes a state change (the timeline's `write`). */
  readonly write: (change: Change) => Promise<void>;
  /** What a decrypted content item does; `older`: it comes from scrolling back, not as news. */
  readonly apply: (
    conversationId: string,
    entry: MessageEntry,
    sender: ProtocolAddress,
    content: Content,
  ) => Promise<Change>;
  readonly system: (conversationId: string, entry: SystemEntry, older: boolean) => Promise<Change>;
  readonly undecryptable: (conversationId: string, entry: MessageEntry, error: DecryptErrorView) => Change;
  /** Queues a content item to send (a resend request). */
  readonly queue: (conversationId: string, content: Content) => Promise<void>;
  /** A session was started with one of our prekeys. */
  readonly usedPreKey: () => void;
  readonly closed: () => boolean;
}

export class Receiver {
  readonly #deps: ReceiverDeps;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #pendingAcks: { conversationId: string; seq: number }[] = [];
  readonly #resendAsked = new Set<string>();
  readonly #catchingUp = new Coalesced();

  constructor(deps: ReceiverDeps) {
    this.#deps = deps;
  }

  /** Runs `work` after everything queued before it: entries are processed one at a time, in order. */
  enqueue<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.#queue.catch(() => undefined);
  }

  /** A live `entry` frame. */
  onEntry(frame: ServerFrame & { type: 'entry' }): void {
    void this.enqueue(async () => {
      if (!this.#deps.directory.known(frame.conversationId)) {
        await this.#deps.directory.refresh().catch(() => undefined);
      }
      await this.#ingest(frame.conversationId, frame.entry, false);
    })
      .then(() => this.flushAcks())
      .catch((error) => this.#deps.log('ingest.failed', { error: String(error), stack: (error as Error)?.stack }));
  }

  /** Everything the server holds for this device: `/sync` until done, then each conversation's timeline gap. */
  catchUp(): Promise<void> {
    return this.#catchingUp.run(async () => {
      try {
        await this.#runSync();
        await this.#deps.directory.refresh();
        for (const conv of this.#deps.directory.conversations) await this.#fillGap(conv.id, conv.lastSeq);
        await this.flushAcks();
        return true;
      } catch (error) {
        this.#deps.log('sync.failed', { error: String(error) });
        return false;
      }
    }, this.#deps.closed);
  }

  /** A page of the timeline before `before` (scrolling back): applied, never acknowledged. */
  pageBack(conversationId: string, before: number, limit: number): Promise<TimelineEntry[]> {
    return this.enqueue(async () => {
      const page = await this.#deps.api.call('GET /conversations/{conversationId}/messages', {
        path: { conversationId },
        query: { before, limit },
      });
      for (const entry of page.messages) await this.#ingest(conversationId, entry, true);
      return page.messages;
    });
  }

  /** Opens a pairwise ciphertext from `sender`; a session it started used one of our prekeys. */
  async openPairwise(sender: ProtocolAddress, bytes: Uint8Array): Promise<Uint8Array> {
    const result = await new SessionCipher(this.#deps.stores, sender).decrypt(bytes);
    if (result.newSession) this.#deps.usedPreKey();
    return result.plaintext;
  }

  async flushAcks(): Promise<void> {
    const { api, log } = this.#deps;
    while (this.#pendingAcks.length > 0) {
      const deliveries = this.#pendingAcks.splice(0, ACK_BATCH);
      try {
        const socket = this.#deps.socket();
        if (socket?.online) await socket.request({ action: 'message.ack', deliveries });
        else await api.call('POST /sync/ack', { body: { deliveries } });
      } catch (error) {
        try {
          await api.call('POST /sync/ack', { body: { deliveries } });
        } catch {
          log('ack.failed', { error: String(error) });
          return;
        }
      }
    }
  }

  async #runSync(): Promise<void> {
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      let answer: CallOutput<'GET /sync'>;
      try {
        answer = await this.#deps.api.call('GET /sync', { query: { cursor, limit: SYNC_PAGE } });
      } catch (error) {
        this.#deps.log('sync.unavailable', { error: String(error) });
        return;
      }
      for (const { conversationId, entry } of answer.entries) {
        await this.enqueue(() => this.#ingest(conversationId, entry, false));
      }
      await this.flushAcks();
      if (!answer.more) return;
      cursor = answer.cursor;
    }
  }

  async #fillGap(conversationId: string, lastSeq: number): Promise<void> {
    const { api, store } = this.#deps;
    let after = await store.syncedUpTo(conversationId);
    while (after < lastSeq) {
      const page = await api.call('GET /conversations/{conversationId}/messages', {
        path: { conversationId },
        query: { after, limit: SYNC_PAGE },
      });
      if (page.messages.length === 0) break;
      for (const entry of page.messages) await this.enqueue(() => this.#ingest(conversationId, entry, false));
      after = page.messages.at(-1)?.seq ?? page.lastSeq;
      await store.setSyncedUpTo(conversationId, after);
    }
  }

  /** Processes one timeline entry once: decrypt, apply, write, then acknowledge. */
  async #ingest(conversationId: string, entry: TimelineEntry, older: boolean): Promise<void> {
    const { log, store, write } = this.#deps;
    const key = `${conversationId}:${entry.seq}`;
    log('entry.received', { conversationId, seq: entry.seq, type: entry.type });
    if (await store.isProcessed(key)) {
      log('entry.duplicate', { conversationId, seq: entry.seq });
      if (!older) this.#ack(conversationId, entry.seq);
      return;
    }
    if (entry.type === 'system') {
      await write(andProcessed(await this.#deps.system(conversationId, entry, older), key));
      if (!older) this.#ack(conversationId, entry.seq);
      return;
    }
    if (entry.envelope === null) {
      // Ours (this device sent it), from before this device existed, or already received: nothing to decrypt.
      log('entry.no_envelope', { conversationId, seq: entry.seq });
      return;
    }
    const sender = ProtocolAddress.of(entry.senderId, entry.senderDeviceId);
    let content: Content;
    try {
      const bytes = fromBase64(entry.envelope.ciphertext);
      const plaintext =
        entry.envelope.type === 'sender_key'
          ? (await groupDecrypt(this.#deps.stores.senderKeys, sender, bytes)).plaintext
          : await this.openPairwise(sender, bytes);
      content = decodeContent(plaintext);
    } catch (error) {
      await this.#decryptFailed(conversationId, entry, sender, error);
      return;
    }
    log('entry.decrypted', { conversationId, seq: entry.seq, kind: content.kind });
    await this.#deps.directory.ensureNames([entry.senderId]);
    await write(andProcessed(await this.#deps.apply(conversationId, entry, sender, content), key));
    this.#ack(conversationId, entry.seq);
  }

  #ack(conversationId: string, seq: number): void {
    this.#pendingAcks.push({ conversationId, seq });
  }

  async #decryptFailed(
    conversationId: string,
    entry: MessageEntry,
    sender: ProtocolAddress,
    error: unknown,
  ): Promise<void> {
    const failure = describeFailure(error, entry.envelope?.type === 'sender_key');
    this.#deps.log('decrypt.failed', { conversationId, seq: entry.seq, code: failure.code });
    await this.#deps.directory.ensureNames([entry.senderId]);
    const recoverable = failure.code !== 'untrusted_identity' && failure.code !== 'bad_content';
    const key = `${conversationId}:${entry.seq}`;
    await this.#deps.write(
      andProcessed(this.#deps.undecryptable(conversationId, entry, { ...failure, recovering: recoverable }), key),
    );
    // The ciphertext cannot be decrypted later either: acknowledge it and ask for a copy instead.
    this.#ack(conversationId, entry.seq);
    if (!recoverable || this.#resendAsked.has(key)) return;
    this.#resendAsked.add(key);
    void this.#askResend(conversationId, entry.seq, sender, failure.code).catch((cause) => {
      this.#deps.log('resend.request_failed', { error: String(cause) });
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
      const bundle = await keyDirectory(this.#deps.api).fetchBundle(sender);
      await startSession(this.#deps.store, this.#deps.stores, sender, bundle);
    }
    await this.#deps.queue(conversationId, {
      v: 1,
      id: globalThis.crypto.randomUUID(),
      kind: 'resend_request',
      seq,
      device: { userId: sender.name, deviceId: sender.deviceId },
    });
    this.#deps.log('resend.asked', { conversationId, seq });
  }
}

/** What a decrypt failure means to the person reading, and whether asking for a copy can help. */
export function describeFailure(error: unknown, senderKey: boolean): Omit<DecryptErrorView, 'recovering'> {
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
