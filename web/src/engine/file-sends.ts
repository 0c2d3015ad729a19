/**
 * Sending files (see attachments.ts for the encryption and transport): the message is shown at once with
 * progress, lives in memory only until its uploads are done (a cancel or a reload leaves nothing behind and
 * sends nothing), then goes to the outbox with the references inside the ciphertext and the upload ids in
 * clear. A failed upload marks the message failed and keeps its files (in memory, for this page) for "Try
 * again". Downloads and thumbnails of received files go through the transfer board.
 */
import type { AttachmentRef } from './attachment-content.ts';
import {
  type AttachmentTransport,
  displayOf,
  type StoredAttachment,
  safeName,
  safeType,
  storedOf,
  type TransferBoard,
  uploadFiles,
} from './attachments.ts';
import type { Content } from './content.ts';
import { MAX_TEXT_LENGTH } from './content.ts';
import { EngineError } from './errors.ts';
import type { Change } from './local-store.ts';
import type { ItemRecord } from './records.ts';
import { refsOf, type Timeline } from './timeline.ts';
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE, transferKey } from './transfers.ts';
import type { MessageRef } from './types.ts';

export interface FileSendsDeps {
  readonly timeline: Timeline;
  readonly transport: AttachmentTransport;
  readonly transfers: TransferBoard;
  readonly deviceId: () => number;
  readonly queue: (conversationId: string, content: Content, attachmentIds: string[], with_: Change) => Promise<void>;
  readonly closed: () => boolean;
  readonly log: (event: string, detail?: Record<string, unknown>) => void;
}

/** What the server checks: every upload a message names, files and thumbnails. */
export function attachmentIdsOf(refs: readonly AttachmentRef[]): string[] {
  return refs.flatMap((r) => (r.thumbnail ? [r.id, r.thumbnail.id] : [r.id]));
}

export class FileSends {
  readonly #deps: FileSendsDeps;
  /** Uploads of messages not yet queued, by item key. */
  readonly #uploads = new Map<string, AbortController>();
  /** The files of uploads that failed, by item key, kept (in memory only) so that "Try again" can send them. */
  readonly #failed = new Map<string, readonly File[]>();

  constructor(deps: FileSendsDeps) {
    this.#deps = deps;
  }

  /** Checks the files, shows the message and starts the uploads. */
  send(conversationId: string, contentId: string, files: readonly File[], text: string): MessageRef {
    if (files.length > MAX_ATTACHMENTS_PER_MESSAGE) {
      throw new EngineError('too_many_files', `At most ${MAX_ATTACHMENTS_PER_MESSAGE} files per message`);
    }
    const tooLarge = files.find((f) => f.size > MAX_ATTACHMENT_BYTES);
    if (tooLarge) throw new EngineError('file_too_large', `${tooLarge.name} is larger than the 100 MB limit`);
    if (text.length > MAX_TEXT_LENGTH) throw new EngineError('too_long', 'The message is too long');
    const ref: MessageRef = { conversationId, contentId };
    // The local echo lives in memory until the uploads are done: a reload or a cancel leaves nothing behind.
    const item = this.#deps.timeline.localItem(conversationId, contentId, this.#deps.deviceId(), {
      text,
      attachments: files.map((f) => ({ name: safeName(f.name), type: safeType(f.type), size: f.size, ref: null })),
    });
    this.#upload(item, ref, files);
    return ref;
  }

  /** "Try again" for a message whose uploads failed; false when its files were uploaded (send it again). */
  retry(item: ItemRecord, ref: MessageRef): boolean {
    if (refsOf(item) !== null) return false;
    const files = this.#failed.get(item.key);
    if (!files) throw new EngineError('upload_lost', 'The files were not uploaded: send them again');
    this.#failed.delete(item.key);
    item.state = 'sending';
    this.#upload(item, ref, files);
    return true;
  }

  cancel(ref: MessageRef): void {
    const { timeline, transfers, log } = this.#deps;
    const item = timeline.find(ref.conversationId, ref.contentId);
    if (!item) return;
    const controller = this.#uploads.get(item.key);
    this.#failed.delete(item.key);
    if (controller) {
      controller.abort();
      this.#uploads.delete(item.key);
    } else if (item.state !== 'failed' || refsOf(item) !== null) {
      throw new EngineError('too_late', 'The files are uploaded and the message is on its way');
    }
    (item.attachments ?? []).forEach((_, index) => {
      const key = transferKey(ref, index);
      const current = transfers.get(key);
      if (current?.state === 'active') transfers.set(key, { ...current, state: 'cancelled' });
    });
    timeline.hide(item);
    log('attachment.upload_cancelled', { conversationId: ref.conversationId });
  }

  download(ref: MessageRef, index: number): Promise<string> {
    const { transfers, transport } = this.#deps;
    const file = this.#attachmentOf(ref, index);
    const key = transferKey(ref, index);
    const own = transfers.get(key);
    if (own?.url) return Promise.resolve(own.url);
    const attachment = file.ref;
    if (!attachment) return Promise.reject(new EngineError('uploading', 'The file is still uploading'));
    // Only types the UI shows inline keep their type; anything else is saved as bytes, never rendered.
    const type = displayOf(file.type) === 'file' ? 'application/octet-stream' : file.type;
    return transfers.once(key, 'download', (signal) =>
      transport.download(attachment, type, {
        signal,
        onProgress: (loaded, total) => transfers.progress(key, loaded, total),
      }),
    );
  }

  async thumbnail(ref: MessageRef, index: number): Promise<string | null> {
    const { transfers, transport } = this.#deps;
    const file = this.#attachmentOf(ref, index);
    const key = transferKey(ref, index, true);
    const local = transfers.get(key);
    if (local?.url) return local.url;
    const thumb = file.ref?.thumbnail;
    if (!thumb || displayOf(thumb.type) !== 'image') return null;
    return transfers.once(key, 'download', (signal) => transport.download(thumb, thumb.type, { signal }));
  }

  cancelDownload(ref: MessageRef, index: number): void {
    this.#deps.transfers.abort(transferKey(ref, index));
  }

  close(): void {
    for (const controller of this.#uploads.values()) controller.abort();
    this.#deps.transfers.clear();
  }

  #attachmentOf(ref: MessageRef, index: number): StoredAttachment {
    const file = this.#deps.timeline.find(ref.conversationId, ref.contentId)?.attachments?.[index];
    if (!file) throw new EngineError('not_found', 'No such file');
    return file;
  }

  /**
   * Encrypts and uploads the files of a message shown (not yet stored) as `item`, then queues the message. A
   * cancel stops it and sends nothing; a failure marks the item failed and keeps the files for a retry.
   */
  #upload(item: ItemRecord, ref: MessageRef, files: readonly File[]): void {
    const { timeline, transfers, transport } = this.#deps;
    const { conversationId } = ref;
    const controller = new AbortController();
    this.#uploads.set(item.key, controller);
    for (const index of files.keys()) {
      transfers.set(transferKey(ref, index), {
        direction: 'upload',
        loaded: 0,
        total: 0,
        state: 'active',
        error: null,
        url: null,
      });
    }
    timeline.show(item);
    void (async () => {
      try {
        const refs = await uploadFiles(
          transport,
          transfers,
          conversationId,
          files,
          (index, thumbnail) => transferKey(ref, index, thumbnail),
          controller.signal,
          (index, facts) => {
            Object.assign(item.attachments?.[index] ?? {}, facts);
            timeline.render(conversationId);
          },
        );
        if (controller.signal.aborted || this.#deps.closed()) return;
        this.#uploads.delete(item.key);
        const uploaded = { ...item, attachments: refs.map(storedOf) };
        await this.#deps.queue(
          conversationId,
          { v: 1, id: ref.contentId, kind: 'text', text: item.text, attachments: refs },
          attachmentIdsOf(refs),
          { put: [{ item: uploaded }] },
        );
      } catch (error) {
        this.#uploads.delete(item.key);
        if (controller.signal.aborted) return;
        this.#deps.log('attachment.upload_failed', { conversationId, error: String(error) });
        const reason = error instanceof Error ? error.message : String(error);
        files.forEach((_, index) => {
          const key = transferKey(ref, index);
          const current = transfers.get(key);
          if (current?.state === 'active') transfers.set(key, { ...current, state: 'failed', error: reason });
        });
        this.#failed.set(item.key, files);
        item.state = 'failed';
        timeline.render(conversationId);
      }
    })();
  }
}
