/**
 * Zod-free attachment helpers the UI may import (first-paint bundle): transfer keys and the size limit.
 */
import type { MessageRef } from './types.ts';

/**
 * The largest file the client offers to send, in plaintext bytes: the server's default `ATTACHMENT_MAX_BYTES`
 * (100 MiB of ciphertext) less the encryption overhead (25 bytes, plus 17 per 64 KiB chunk: ~27 KB at 100 MiB).
 */
export const MAX_ATTACHMENT_BYTES = 100 * 1024 * 1024 - 64 * 1024;
export const MAX_ATTACHMENTS_PER_MESSAGE = 10;

/** Names one file's transfer (or its thumbnail's) in `Engine.transfers`. */
export function transferKey(message: MessageRef, index: number, thumbnail = false): string {
  return `${message.conversationId}|${message.contentId}|${index}${thumbnail ? '|thumb' : ''}`;
}
