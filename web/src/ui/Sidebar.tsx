import { useState } from 'preact/hooks';
import { navigate, paths, route } from '../store/route.ts';
import { Avatar } from './Avatar.tsx';
import { ConversationRow } from './ConversationRow.tsx';
import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';
import { UserMenu } from './UserMenu.tsx';

/** The left column: who I am, search, new chat buttons and the conversation list, most recent first. */
export function Sidebar() {
  const engine = useEngine();
  const me = engine.me.value;
  const current = route.value;
  const activeId = current.name === 'chat' || current.name === 'details' ? current.conversationId : null;
  const [query, setQuery] = useState(current.name === 'search' ? current.query : '');
  const trust = engine.trust.value;
  const conversations = [...engine.conversations.value].sort((a, b) =>
    (b.lastMessage?.at ?? b.lastActivityAt).localeCompare(a.lastMessage?.at ?? a.lastActivityAt),
  );
  return (
    <nav class="sidebar" aria-label="Conversations">
      <header class="sidebar__header">
        {me && <Avatar id={me.id} name={me.displayName} size="sm" />}
        <span class="sidebar__me">{me?.displayName}</span>
        <UserMenu />
      </header>
      <search>
        <form
          class="sidebar__search"
          onSubmit={(event) => {
            event.preventDefault();
            if (query.trim()) navigate(paths.search(query.trim()));
          }}
        >
          <label class="visually-hidden" for="search-messages">
            Search messages
          </label>
          <Icon name="search" class="sidebar__search-icon" />
          <input
            id="search-messages"
            class="input input--search"
            type="search"
            placeholder="Search messages (/)"
            autoComplete="off"
            value={query}
            onInput={(e) => setQuery(e.currentTarget.value)}
            data-testid="search-input"
          />
        </form>
      </search>
      <div class="sidebar__actions">
        <a class="button button--secondary" href={paths.newDirect} data-testid="new-chat">
          <Icon name="plus" /> New chat
        </a>
        <a class="button button--secondary" href={paths.newGroup} data-testid="new-group">
          <Icon name="group" /> New group
        </a>
      </div>
      <h2 class="sidebar__heading">Chats</h2>
      {conversations.length === 0 ? (
        <p class="sidebar__empty">No conversations yet. Start one with a colleague.</p>
      ) : (
        <ul class="conversation-list" data-testid="conversation-list">
          {conversations.map((c) => (
            <ConversationRow
              key={c.id}
              conversation={c}
              active={c.id === activeId}
              warn={c.peer ? trust[c.peer.userId]?.identityChanged === true : false}
            />
          ))}
        </ul>
      )}
    </nav>
  );
}
