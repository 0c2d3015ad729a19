/**
 * Encrypted attachments, the client side (loaded with the core). A file is encrypted in the browser with a fresh
 * key (the crypto library's chunked secretstream), the ciphertext is uploaded straight to S3 through a presigned
 * POST (`POST /attachments` gives the slot), and the key, the ciphertext's digest, the name, type and size travel
 * inside the end-to-end-encrypted message, whose `attachmentIds` let the server check the uploads. A receiver asks
 * `GET /attachments/{id}` for a short-lived presigned GET, streams the ciphertext, and the crypto library checks
 * every chunk and the digest before the plaintext becomes a Blob.
 */
import {
  AttachmentEncryptor,
  decryptAttachment,
  generateAttachmentKey,
  isCryptoError,
} from '@ciphertalk/shared/crypto';
import type { UploadSlot } from '@ciphertalk/shared/protocol';
import type { ApiClient } from './api-client.ts';
import type { AttachmentRef, ThumbnailRef } from './attachment-content.ts';
import { fromBase64, toBase64 } from './base64.ts';
import { EngineError, isEngineError } from './errors.ts';
import { describeMedia, INLINE_IMAGE_TYPES, isInlineVideo } from './media.ts';
import type { EngineState } from './state.ts';
import { MAX_ATTACHMENTS_PER_MESSAGE } from './transfers.ts';
import type { AttachmentView, TransferView } from './types.ts';

/** Ciphertext gathered in memory before it is folded into the Blob being built (the rest lives in Blob storage). */
const BLOB_FOLD_BYTES = 4 * 1024 * 1024;

/** What an item keeps of a file: the reference once uploaded (null while the sender's upload runs). */
export interface StoredAttachment {
  name: string;
  type: string;
  size: number;
  width?: number;
  height?: number;
  durationSeconds?: number;
  ref: AttachmentRef | null;
}

export function storedOf(ref: AttachmentRef): StoredAttachment {
  return {
    name: ref.name,
    type: ref.type,
    size: ref.size,
    ...(ref.width !== undefined ? { width: ref.width } : {}),
    ...(ref.height !== undefined ? { height: ref.height } : {}),
    ...(ref.durationSeconds !== undefined ? { durationSeconds: ref.durationSeconds } : {}),
    ref,
  };
}

export function displayOf(type: string): AttachmentView['display'] {
  if (INLINE_IMAGE_TYPES.has(type)) return 'image';
  if (isInlineVideo(type)) return 'video';
  return 'file';
}

export function attachmentView(stored: StoredAttachment, index: number): AttachmentView {
  return {
    index,
    name: stored.name,
    type: stored.type,
    size: stored.size,
    width: stored.width ?? null,
    height: stored.height ?? null,
    durationSeconds: stored.durationSeconds ?? null,
    hasThumbnail: stored.ref?.thumbnail !== undefined,
    display: displayOf(stored.type),
    uploading: stored.ref === null,
  };
}

/** A conversation row's preview of a message that is only files. */
export const attachmentSummary = (files: readonly StoredAttachment[]): string =>
  files.length === 0 ? '' : files.length === 1 ? `File: ${files[0]?.name}` : `${files.length} files`;

/** The `transfers` signal: progress, state and object URLs of uploads and downloads. */
export class TransferBoard {
  readonly #state: EngineState;
  readonly #controllers = new Map<string, AbortController>();
  readonly #running = new Map<string, Promise<string>>();

  constructor(state: EngineState) {
    this.#state = state;
  }

  get(key: string): TransferView | undefined {
    return this.#state.transfers.value[key];
  }

  set(key: string, view: TransferView): void {
    this.#state.transfers.value = { ...this.#state.transfers.value, [key]: view };
  }

  /** Progress, redrawn at most once per percent. */
  progress(key: string, loaded: number, total: number): void {
    const current = this.get(key);
    if (current?.state !== 'active') return;
    const step = Math.max(1, Math.floor(total / 100));
    if (current.total === total && Math.floor(current.loaded / step) === Math.floor(loaded / step)) return;
    this.set(key, { ...current, loaded, total });
  }

  controller(key: string): AbortController {
    const controller = new AbortController();
    this.#controllers.set(key, controller);
    return controller;
  }

  abort(key: string): void {
    this.#controllers.get(key)?.abort();
  }

  /** Runs one download per key at a time and remembers its object URL; failures can be tried again. */
  once(
    key: string,
    direction: TransferView['direction'],
    work: (signal: AbortSignal) => Promise<Blob>,
  ): Promise<string> {
    const done = this.get(key);
    if (done?.state === 'done' && done.url) return Promise.resolve(done.url);
    const running = this.#running.get(key);
    if (running) return running;
    const controller = this.controller(key);
    this.set(key, { direction, loaded: 0, total: 0, state: 'active', error: null, url: null });
    const run = (async () => {
      try {
        const url = URL.createObjectURL(await work(controller.signal));
        const current = this.get(key);
        this.set(key, {
          direction,
          loaded: current?.total ?? 0,
          total: current?.total ?? 0,
          state: 'done',
          error: null,
          url,
        });
        return url;
      } catch (error) {
        const cancelled = controller.signal.aborted;
        this.set(key, {
          direction,
          loaded: this.get(key)?.loaded ?? 0,
          total: this.get(key)?.total ?? 0,
          state: cancelled ? 'cancelled' : 'failed',
          error: cancelled ? null : error instanceof Error ? error.message : String(error),
          url: null,
        });
        throw cancelled ? new EngineError('cancelled', 'Cancelled', { cause: error }) : error;
      } finally {
        this.#running.delete(key);
        this.#controllers.delete(key);
      }
    })();
    this.#running.set(key, run);
    return run;
  }

  /** Object URLs die with the page, but a signed-out session should not keep them. */
  clear(): void {
    for (const controller of this.#controllers.values()) controller.abort();
    for (const view of Object.values(this.#state.transfers.value)) if (view.url) URL.revokeObjectURL(view.url);
    this.#state.transfers.value = {};
  }
}

export interface TransferOptions {
  signal?: AbortSignal;
  onProgress?: (loaded: number, total: number) => void;
}

/** Uploads and downloads of ciphertext; `fetch` is the engine's (S3 needs no credentials). */
export class AttachmentTransport {
  readonly #api: ApiClient;
  readonly #fetch: typeof fetch;

  constructor(api: ApiClient, fetchImpl: typeof fetch) {
    this.#api = api;
    this.#fetch = fetchImpl;
  }

  /** Encrypts `blob` with a fresh key and uploads the ciphertext to a slot of the conversation. */
  async upload(
    conversationId: string,
    blob: Blob,
    options: TransferOptions = {},
  ): Promise<{ id: string; key: string; digest: string }> {
    const { ciphertext, key, digest } = await encryptBlob(blob, options.signal);
    throwIfAborted(options.signal);
    options.onProgress?.(0, ciphertext.size);
    const { attachment, upload } = await this.#api.call('POST /attachments', {
      body: { conversationId, size: ciphertext.size },
    });
    throwIfAborted(options.signal);
    await postToSlot(upload, ciphertext, options, this.#fetch);
    return { id: attachment.id, key: toBase64(key), digest: toBase64(digest) };
  }

  /** Downloads, verifies and decrypts; never returns bytes that failed a check. */
  async download(ref: ThumbnailRef | AttachmentRef, type: string, options: TransferOptions = {}): Promise<Blob> {
    const answer = await this.#api.call('GET /attachments/{attachmentId}', { path: { attachmentId: ref.id } });
    throwIfAborted(options.signal);
    let response: Response;
    try {
      response = await this.#fetch(answer.url, { signal: options.signal ?? null, credentials: 'omit' });
    } catch (cause) {
      throw options.signal?.aborted
        ? new EngineError('cancelled', 'Cancelled', { cause })
        : new EngineError('network', 'The file could not be downloaded', { cause });
    }
    if (!response.ok || !response.body) {
      throw new EngineError('download_failed', `The file could not be downloaded (${response.status})`, {
        status: response.status,
      });
    }
    // Plaintext is folded into a Blob as it comes (not kept twice); the Blob is only handed out once the
    // digest matched, which the crypto library checks before it releases the last chunk.
    const plaintext = new BlobBuilder();
    try {
      const source = readStream(response.body, answer.size, options);
      for await (const part of decryptAttachment(fromBase64(ref.key), source, fromBase64(ref.digest))) {
        plaintext.push(part);
      }
    } catch (error) {
      if (isCryptoError(error)) {
        throw new EngineError('attachment_corrupt', 'The file failed its integrity check and was not opened', {
          cause: error,
        });
      }
      if (options.signal?.aborted) throw new EngineError('cancelled', 'Cancelled', { cause: error });
      throw isEngineError(error) ? error : new EngineError('network', 'The download was interrupted', { cause: error });
    }
    return plaintext.finish(type);
  }
}

/** Builds a Blob from many chunks, folding them in every few MB so the JS heap holds little at a time. */
class BlobBuilder {
  #blob = new Blob([]);
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  push(chunk: Uint8Array): void {
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (this.#pendingBytes >= BLOB_FOLD_BYTES) this.#fold();
  }

  finish(type: string): Blob {
    return new Blob([this.#blob, ...(this.#pending as BlobPart[])], { type });
  }

  #fold(): void {
    this.#blob = new Blob([this.#blob, ...(this.#pending as BlobPart[])]);
    this.#pending = [];
    this.#pendingBytes = 0;
  }
}

/** Encrypts a Blob chunk by chunk into a ciphertext Blob, folding pieces in as it goes. */
export async function encryptBlob(
  blob: Blob,
  signal?: AbortSignal,
): Promise<{ ciphertext: Blob; key: Uint8Array; digest: Uint8Array }> {
  const key = generateAttachmentKey();
  const encryptor = new AttachmentEncryptor(key, blobChunks(blob));
  const ciphertext = new BlobBuilder();
  for await (const chunk of encryptor.chunks()) {
    throwIfAborted(signal);
    ciphertext.push(chunk);
  }
  return { ciphertext: ciphertext.finish('application/octet-stream'), key, digest: encryptor.digest() };
}

async function* blobChunks(blob: Blob): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    yield value;
  }
}

async function* readStream(
  body: ReadableStream<Uint8Array>,
  total: number,
  options: TransferOptions,
): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  let loaded = 0;
  options.onProgress?.(0, total);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    loaded += value.length;
    options.onProgress?.(loaded, total);
    yield value;
  }
}

/**
 * The presigned POST: every policy field, then `file` last (S3 ignores fields after the file). XMLHttpRequest
 * reports upload progress, which fetch does not; without it (Node) fetch does the same POST.
 */
function postToSlot(slot: UploadSlot, ciphertext: Blob, options: TransferOptions, fetchImpl: typeof fetch) {
  const form = new FormData();
  for (const [name, value] of Object.entries(slot.fields)) form.append(name, value);
  form.append('file', ciphertext);
  if (typeof XMLHttpRequest === 'undefined') {
    return fetchImpl(slot.url, { method: 'POST', body: form, signal: options.signal ?? null }).then(
      async (response) => {
        if (!response.ok) throw uploadRefused(response.status);
        options.onProgress?.(ciphertext.size, ciphertext.size);
      },
      (cause) => {
        throw options.signal?.aborted
          ? new EngineError('cancelled', 'Cancelled', { cause })
          : new EngineError('network', 'The upload failed', { cause });
      },
    );
  }
  return new Promise<void>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    options.signal?.addEventListener('abort', onAbort);
    const settle = (error?: EngineError) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    xhr.upload.onprogress = (event) => {
      // The multipart body is a little larger than the ciphertext: report in ciphertext bytes.
      if (event.lengthComputable && event.total > 0) {
        options.onProgress?.(Math.round((event.loaded / event.total) * ciphertext.size), ciphertext.size);
      }
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        options.onProgress?.(ciphertext.size, ciphertext.size);
        settle();
      } else settle(uploadRefused(xhr.status));
    };
    xhr.onerror = () => settle(new EngineError('network', 'The upload failed'));
    xhr.onabort = () => settle(new EngineError('cancelled', 'Cancelled'));
    xhr.open('POST', slot.url);
    xhr.send(form);
    if (options.signal?.aborted) xhr.abort();
  });
}

const uploadRefused = (status: number) =>
  new EngineError('upload_failed', `The storage refused the upload (${status})`, { status });

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new EngineError('cancelled', 'Cancelled');
}

/** Per file: facts and thumbnail, then the file's upload and the thumbnail's; resolves with the references. */
export async function uploadFiles(
  transport: AttachmentTransport,
  board: TransferBoard,
  conversationId: string,
  files: readonly File[],
  keyOf: (index: number, thumbnail?: boolean) => string,
  signal: AbortSignal,
  onFacts: (index: number, facts: Pick<StoredAttachment, 'width' | 'height' | 'durationSeconds'>) => void,
): Promise<AttachmentRef[]> {
  const refs: AttachmentRef[] = [];
  // Thumbnails are uploads too, and a message names at most ten: files first, thumbnails while ids are left.
  let thumbnailsLeft = MAX_ATTACHMENTS_PER_MESSAGE - files.length;
  for (const [index, file] of files.entries()) {
    const key = keyOf(index);
    const facts = await describeMedia(file);
    throwIfAborted(signal);
    if (thumbnailsLeft <= 0) delete facts.thumbnail;
    else if (facts.thumbnail) thumbnailsLeft--;
    const dims = {
      ...(facts.width ? { width: facts.width } : {}),
      ...(facts.height ? { height: facts.height } : {}),
      ...(facts.durationSeconds !== undefined ? { durationSeconds: facts.durationSeconds } : {}),
    };
    onFacts(index, dims);
    if (facts.thumbnail) {
      const url = URL.createObjectURL(facts.thumbnail.blob);
      board.set(keyOf(index, true), { direction: 'upload', loaded: 0, total: 0, state: 'done', error: null, url });
    }
    const uploaded = await transport.upload(conversationId, file, {
      signal,
      onProgress: (loaded, total) => board.progress(key, loaded, total),
    });
    let thumbnail: ThumbnailRef | undefined;
    if (facts.thumbnail) {
      const t = await transport.upload(conversationId, facts.thumbnail.blob, { signal });
      thumbnail = { ...t, type: 'image/jpeg', width: facts.thumbnail.width, height: facts.thumbnail.height };
    }
    const current = board.get(key);
    board.set(key, {
      direction: 'upload',
      loaded: current?.total ?? file.size,
      total: current?.total ?? file.size,
      state: 'done',
      error: null,
      url: URL.createObjectURL(file),
    });
    refs.push({
      ...uploaded,
      name: safeName(file.name),
      type: safeType(file.type),
      size: file.size,
      ...dims,
      ...(thumbnail ? { thumbnail } : {}),
    });
  }
  return refs;
}

/** The name as the content schema accepts it (no separators or control characters, at most 255). */
export function safeName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing them is the point
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\]/g, '_').slice(0, 255);
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'file' : cleaned;
}

/** The MIME type as the content schema accepts it; anything odd is sent as a plain byte stream. */
export function safeType(type: string): string {
  const lower = type.toLowerCase().split(';')[0]?.trim() ?? '';
  return /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/.test(lower) && lower.length <= 127
    ? lower
    : 'application/octet-stream';
}
