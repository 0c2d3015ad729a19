import { type Signal, signal } from '@preact/signals';
import type { MessageView } from '../engine/types.ts';

/** What the composer is doing besides writing a new message: answering one, or editing one of one's own. */
export type ComposerMode =
  | { readonly kind: 'new' }
  | { readonly kind: 'reply'; readonly message: MessageView }
  | { readonly kind: 'edit'; readonly message: MessageView };

/** Per conversation, so switching chats keeps each one's reply or edit in progress. */
const modes = new Map<string, Signal<ComposerMode>>();

export function composerMode(conversationId: string): Signal<ComposerMode> {
  let mode = modes.get(conversationId);
  if (!mode) {
    mode = signal<ComposerMode>({ kind: 'new' });
    modes.set(conversationId, mode);
  }
  return mode;
}

/** Focus requests for the composer (after choosing Reply or Edit in a message's menu). */
export const composerFocus = signal(0);
export const requestComposerFocus = () => {
  composerFocus.value++;
};
