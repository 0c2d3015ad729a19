import { useEffect, useRef, useState } from 'preact/hooks';
import { watchNetwork } from '../store/network.ts';
import { navigate, paths, type Route, route } from '../store/route.ts';
import { CallOverlay } from './CallOverlay.tsx';
import { ChatView } from './ChatView.tsx';
import { ConnectionBanner } from './ConnectionBanner.tsx';
import { ConversationDetails } from './ConversationDetails.tsx';
import { DevicesScreen } from './DevicesScreen.tsx';
import { EmptyState } from './EmptyState.tsx';
import { useEngine } from './engine-context.ts';
import { NewDirectScreen } from './NewDirectScreen.tsx';
import { NewGroupScreen } from './NewGroupScreen.tsx';
import { SafetyNumberScreen } from './SafetyNumberScreen.tsx';
import { SearchScreen } from './SearchScreen.tsx';
import { SettingsScreen } from './SettingsScreen.tsx';
import { ShortcutsDialog } from './ShortcutsDialog.tsx';
import { Sidebar } from './Sidebar.tsx';

/**
 * The signed-in app: sidebar and main pane side by side on a desktop; on a phone one at a time (the list on the
 * home route, the main pane everywhere else). Global keyboard shortcuts live here; moving between screens moves
 * focus to the new screen's heading (or, in a chat, to the message box), so screen readers announce it.
 */
export function MainLayout() {
  const engine = useEngine();
  const current = route.value;
  const main = useRef<HTMLElement>(null);
  const [shortcutsOpen, setShortcutsOpen] = useState(false);

  useEffect(() => {
    if (current.name === 'chat') return; // the composer takes focus
    main.current?.querySelector<HTMLElement>('[data-autofocus]')?.focus();
  }, [current]);

  // The offline banner follows the browser's network events (the engine reconnects on `online` by itself).
  useEffect(() => watchNetwork(), []);

  useEffect(() => {
    const openShortcuts = () => setShortcutsOpen(true);
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      const typing = target.closest('input, textarea, select, [contenteditable="true"]') !== null;
      if (event.altKey && (event.key === 'ArrowUp' || event.key === 'ArrowDown')) {
        event.preventDefault();
        moveConversation(event.key === 'ArrowUp' ? -1 : 1);
      } else if (event.altKey && event.key.toLowerCase() === 'n') {
        event.preventDefault();
        navigate(paths.newDirect);
      } else if (!typing && event.key === '/' && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        const search = document.getElementById('search-messages') as HTMLInputElement | null;
        search?.focus();
        search?.select();
      } else if (!typing && event.key === '?') {
        event.preventDefault();
        setShortcutsOpen(true);
      }
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('ciphertalk:shortcuts', openShortcuts);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('ciphertalk:shortcuts', openShortcuts);
    };
  }, []);

  function moveConversation(step: number) {
    const rows = [...document.querySelectorAll<HTMLAnchorElement>('[data-testid="conversation-row"]')];
    const at = rows.findIndex((row) => row.getAttribute('aria-current') === 'page');
    const next = rows[at === -1 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step))];
    if (next) navigate(next.getAttribute('href') ?? paths.home);
  }

  return (
    <div class={`layout layout--${current.name === 'home' ? 'list' : 'main'}`}>
      <a class="skip-link" href="#main">
        Skip to main content
      </a>
      <Sidebar />
      <main class="main" id="main" ref={main} tabIndex={-1}>
        <ConnectionBanner />
        <Screen route={current} />
      </main>
      <ShortcutsDialog open={shortcutsOpen} onClose={() => setShortcutsOpen(false)} />
      <CallOverlay />
      {engine.status.value !== 'ready' && <p class="visually-hidden">Loading</p>}
    </div>
  );
}

function Screen(props: { route: Route }) {
  const engine = useEngine();
  const r = props.route;
  switch (r.name) {
    case 'chat':
    case 'details': {
      const conversation = engine.conversations.value.find((c) => c.id === r.conversationId);
      if (!conversation)
        return (
          <section class="empty-state">
            <h1 tabIndex={-1} data-autofocus>
              Conversation not available
            </h1>
            <p>It may still be loading, or you are no longer a member.</p>
            <a class="button button--secondary" href={paths.home}>
              Back to conversations
            </a>
          </section>
        );
      return r.name === 'chat' ? (
        <ChatView key={conversation.id} conversation={conversation} />
      ) : (
        <ConversationDetails key={conversation.id} conversation={conversation} />
      );
    }
    case 'new-direct':
      return <NewDirectScreen />;
    case 'new-group':
      return <NewGroupScreen />;
    case 'safety':
      return <SafetyNumberScreen key={r.userId} userId={r.userId} conversationId={r.conversationId} />;
    case 'search':
      return <SearchScreen query={r.query} />;
    case 'settings':
      return <SettingsScreen />;
    case 'devices':
      return <DevicesScreen />;
    default:
      return <EmptyState />;
  }
}
