/**
 * Pictures of people and groups, end to end encrypted. A picture is scaled to 256 px JPEG in the browser,
 * encrypted and uploaded like any attachment, and announced with an `avatar` content item. An upload is bound to
 * one conversation server-side, so a person's picture is uploaded and announced once per conversation they are
 * in; a group's picture in that group, by its owner or an admin (receivers check the sender's role).
 *
 * Receivers keep the latest picture per subject (user id or group conversation id, by the announcement's server
 * time) decrypted in IndexedDB (`meta`, key `avatar:<subject>`; the local history is plaintext there too), and
 * show it through `Engine.avatars` (object URLs).
 */
import type { AttachmentRef } from './attachment-content.ts';
import { type AttachmentTransport, displayOf } from './attachments.ts';
import type { LocalStore } from './local-store.ts';
import { avatarPicture, type Picture } from './media.ts';
import type { AvatarRecord } from './records.ts';
import type { EngineState } from './state.ts';

export class Avatars {
  readonly #db: LocalStore;
  readonly #state: EngineState;
  readonly #transport: AttachmentTransport;
  readonly #log: (event: string, detail?: Record<string, unknown>) => void;

  constructor(
    db: LocalStore,
    state: EngineState,
    transport: AttachmentTransport,
    log: (event: string, detail?: Record<string, unknown>) => void,
  ) {
    this.#db = db;
    this.#state = state;
    this.#transport = transport;
    this.#log = log;
  }

  async load(): Promise<void> {
    for (const record of await this.#db.avatars()) this.#show(record.subject, record.image);
  }

  /** Scales a picked image for sending. */
  picture(file: Blob): Promise<Picture> {
    return avatarPicture(file);
  }

  /** Keeps the picture if it is newer than what we have: downloaded and decrypted first. */
  async receive(subject: string, at: string, ref: AttachmentRef | null): Promise<void> {
    if (!(await this.#newer(subject, at))) return;
    let image: Uint8Array | null = null;
    if (ref) {
      if (displayOf(ref.type) !== 'image') return;
      const blob = await this.#transport.download(ref, ref.type);
      image = new Uint8Array(await blob.arrayBuffer());
    }
    await this.store(subject, at, image);
  }

  /** Stores and shows a picture (one's own at once, without a round trip). */
  async store(subject: string, at: string, image: Uint8Array | null): Promise<void> {
    if (!(await this.#newer(subject, at))) return;
    await this.#db.setAvatar({ subject, at, image } satisfies AvatarRecord);
    this.#show(subject, image);
    this.#log('avatar.updated', { subject, removed: image === null });
  }

  /** The picture's bytes, if one is kept. */
  async image(subject: string): Promise<Uint8Array | null> {
    return (await this.#db.avatar(subject))?.image ?? null;
  }

  async #newer(subject: string, at: string): Promise<boolean> {
    const current = await this.#db.avatar(subject);
    return !current || current.at < at;
  }

  #show(subject: string, image: Uint8Array | null): void {
    const next = { ...this.#state.avatars.value };
    const previous = next[subject];
    if (previous) URL.revokeObjectURL(previous);
    if (image) next[subject] = URL.createObjectURL(new Blob([image as BlobPart], { type: 'image/jpeg' }));
    else delete next[subject];
    this.#state.avatars.value = next;
  }

  clear(): void {
    for (const url of Object.values(this.#state.avatars.value)) URL.revokeObjectURL(url);
    this.#state.avatars.value = {};
  }
}
