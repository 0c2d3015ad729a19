import { paths } from '../store/route.ts';
import { Icon } from './Icon.tsx';

/** The main pane before a conversation is chosen (desktop). */
export function EmptyState() {
  return (
    <section class="empty-state">
      <Icon name="lock" class="empty-state__icon" />
      <h1 tabIndex={-1} data-autofocus>
        Choose a conversation
      </h1>
      <p>Pick a chat from the list, or start a new one. Everything you send is end-to-end encrypted.</p>
      <p class="empty-state__actions">
        <a class="button button--primary" href={paths.newDirect}>
          New chat
        </a>
        <a class="button button--secondary" href={paths.newGroup}>
          New group
        </a>
      </p>
    </section>
  );
}
