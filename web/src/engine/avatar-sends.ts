/**
 * Announcing pictures (see avatars.ts): an upload is bound to one conversation, so a person's picture is
 * uploaded and announced once per conversation, and again wherever someone new arrives; a group's picture in
 * that group, by an owner or admin.
 */
import type { AttachmentRef } from './attachment-content.ts';
import type { AttachmentTransport } from './attachments.ts';
import type { Avatars } from './avatars.ts';
import type { Content } from './content.ts';
import type { Directory } from './directory.ts';
import { EngineError } from './errors.ts';

export interface AvatarSendsDeps {
  readonly avatars: Avatars;
  readonly transport: AttachmentTransport;
  readonly directory: Directory;
  readonly userId: string;
  readonly queue: (conversationId: string, content: Content, attachmentIds: string[]) => Promise<void>;
}

type Picture = { blob: Blob; width?: number; height?: number };

const jpeg = (bytes: Uint8Array) => new Blob([bytes as BlobPart], { type: 'image/jpeg' });

export class AvatarSends {
  constructor(private readonly deps: AvatarSendsDeps) {}

  async setMine(file: File | null): Promise<void> {
    const { avatars, userId, directory } = this.deps;
    const picture = file ? await avatars.picture(file) : null;
    const image = picture ? new Uint8Array(await picture.blob.arrayBuffer()) : null;
    await avatars.store(userId, new Date().toISOString(), image);
    // One upload per conversation: the server lets only that conversation's members fetch it.
    for (const conv of directory.conversations) await this.#announce(conv.id, 'user', picture);
  }

  async setGroup(conversationId: string, file: File | null): Promise<void> {
    const { avatars, directory } = this.deps;
    const conv = directory.known(conversationId);
    if (conv?.kind !== 'group') throw new EngineError('not_found', 'No such group');
    if (conv.role !== 'owner' && conv.role !== 'admin') {
      throw new EngineError('forbidden', 'Only the owner and admins change the group picture');
    }
    const picture = file ? await avatars.picture(file) : null;
    const image = picture ? new Uint8Array(await picture.blob.arrayBuffer()) : null;
    await avatars.store(conversationId, new Date().toISOString(), image);
    await this.#announce(conversationId, 'group', picture);
  }

  /** Tells a conversation with someone new in it one's own picture and, for its owner, the group's. */
  async announceTo(conversationId: string): Promise<void> {
    const { avatars, userId, directory } = this.deps;
    const mine = await avatars.image(userId);
    if (mine) await this.#announce(conversationId, 'user', { blob: jpeg(mine) });
    const conv = await directory.conversation(conversationId);
    const group = conv.kind === 'group' && conv.role === 'owner' ? await avatars.image(conversationId) : null;
    if (group) await this.#announce(conversationId, 'group', { blob: jpeg(group) });
  }

  async #announce(conversationId: string, scope: 'user' | 'group', picture: Picture | null): Promise<void> {
    let attachment: AttachmentRef | null = null;
    if (picture) {
      const uploaded = await this.deps.transport.upload(conversationId, picture.blob);
      attachment = {
        ...uploaded,
        name: 'avatar.jpg',
        type: 'image/jpeg',
        size: picture.blob.size,
        ...(picture.width && picture.height ? { width: picture.width, height: picture.height } : {}),
      };
    }
    await this.deps.queue(
      conversationId,
      { v: 1, id: globalThis.crypto.randomUUID(), kind: 'avatar', scope, attachment },
      attachment ? [attachment.id] : [],
    );
  }
}
