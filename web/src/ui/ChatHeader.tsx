import type { ConversationView } from '../engine/types.ts';
import { paths } from '../store/route.ts';
import { Avatar } from './Avatar.tsx';
import { CallButtons } from './CallButtons.tsx';
import { useEngine } from './engine-context.ts';
import { formatLastSeen } from './format.ts';
import { Icon } from './Icon.tsx';

/** Who the conversation is with, whether they are here, and the ways to its details and safety number. */
export function ChatHeader(props: { conversation: ConversationView }) {
  const { conversation: c } = props;
  const engine = useEngine();
  const trust = engine.trust.value;
  const me = engine.me.value?.id;
  const others = c.members.filter((m) => m.userId !== me);
  const online = others.filter((m) => m.presence === 'online').length;
  const subtitle = c.peer
    ? c.peer.presence === 'online'
      ? 'online'
      : formatLastSeen(c.peer.lastSeenAt)
    : `${c.members.length} members${online > 0 ? `, ${online} online` : ''}: ${c.members
        .map((m) => (m.userId === me ? 'you' : m.displayName))
        .join(', ')}`;
  const verified = c.peer ? trust[c.peer.userId]?.verified === true : false;
  return (
    <header class="chat-header">
      <a class="icon-button chat-header__back" href={paths.home} aria-label="Back to conversations">
        <Icon name="back" />
      </a>
      <Avatar id={c.peer?.userId ?? c.id} name={c.title} presence={c.peer?.presence} />
      <div class="chat-header__text">
        <h1 class="chat-header__title" tabIndex={-1} data-autofocus data-testid="chat-title">
          <span class="chat-header__name">{c.title}</span>
          {verified && (
            <span class="verified-badge" data-testid="verified-badge">
              <Icon name="shield" /> Verified
            </span>
          )}
        </h1>
        <p class="chat-header__subtitle" data-testid="chat-subtitle">
          {subtitle}
        </p>
      </div>
      <div class="chat-header__actions">
        <CallButtons conversation={c} />
        {c.peer && (
          <a
            class="icon-button"
            href={paths.safety(c.peer.userId, c.id)}
            aria-label="Safety number"
            title="Safety number"
            data-testid="safety-link"
          >
            <Icon name="shield" />
          </a>
        )}
        <a
          class="icon-button"
          href={paths.details(c.id)}
          aria-label="Conversation details"
          title="Details"
          data-testid="details-link"
        >
          <Icon name="info" />
        </a>
      </div>
    </header>
  );
}
