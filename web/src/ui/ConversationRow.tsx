import type { ConversationView } from '../engine/types.ts';
import { paths } from '../store/route.ts';
import { Avatar } from './Avatar.tsx';
import { formatActivity } from './format.ts';

/** One conversation in the sidebar: who, the last message, when, and how many are unread. */
export function ConversationRow(props: { conversation: ConversationView; active: boolean; warn: boolean }) {
  const { conversation: c, active, warn } = props;
  const preview = c.lastMessage
    ? `${c.kind === 'group' ? `${c.lastMessage.senderName}: ` : ''}${c.lastMessage.text}`
    : c.kind === 'group'
      ? `${c.members.length} members`
      : 'No messages yet';
  const presence = c.peer?.presence;
  return (
    <li>
      <a
        class={`conversation-row${active ? ' is-active' : ''}${c.unreadCount > 0 ? ' has-unread' : ''}`}
        href={paths.chat(c.id)}
        aria-current={active ? 'page' : undefined}
        data-testid="conversation-row"
        data-conversation-id={c.id}
      >
        <Avatar id={c.peer?.userId ?? c.id} name={c.title} presence={presence} />
        <span class="conversation-row__body">
          <span class="conversation-row__top">
            <span class="conversation-row__title">
              {c.title}
              <span class="visually-hidden">
                {c.kind === 'group' ? ', group' : presence === 'online' ? ', online' : ''}
              </span>
            </span>
            <time class="conversation-row__time" dateTime={c.lastActivityAt}>
              {formatActivity(c.lastMessage?.at ?? c.lastActivityAt)}
            </time>
          </span>
          <span class="conversation-row__bottom">
            <span class="conversation-row__preview">{warn ? '⚠ Safety number changed' : preview}</span>
            {c.unreadCount > 0 && (
              <span class="badge" data-testid="unread-badge">
                {c.unreadCount > 99 ? '99+' : c.unreadCount}
                <span class="visually-hidden"> unread</span>
              </span>
            )}
          </span>
        </span>
      </a>
    </li>
  );
}
