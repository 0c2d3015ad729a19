import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { ConversationView, TimelineItem } from '../engine/types.ts';
import { useEngine } from './engine-context.ts';
import { dayKey, formatDay } from './format.ts';
import { MessageItem } from './MessageItem.tsx';

/** Close enough to the bottom to follow new messages, close enough to the top to fetch older ones (px). */
const EDGE = 120;
/** A run of messages from one sender within this long shows the sender once. */
const RUN_MS = 5 * 60_000;

/**
 * The conversation's messages, oldest first, grouped by day; scrolling up loads older history (the position is
 * kept), new messages scroll into view when the reader is at the bottom, and are announced to screen readers.
 */
export function Timeline(props: { conversation: ConversationView }) {
  const { conversation } = props;
  const engine = useEngine();
  const view = engine.timeline(conversation.id).value;
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const previous = useRef<{ first: string | null; last: string | null; height: number }>({
    first: null,
    last: null,
    height: 0,
  });
  const [announcement, setAnnouncement] = useState('');
  const items = view.items;
  const first = items[0]?.id ?? null;
  const lastItem = items.at(-1);
  const last = lastItem?.id ?? null;

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const before = previous.current;
    if (before.first !== null && first !== before.first && last === before.last) {
      // Older history was prepended: keep what the reader was looking at in place.
      element.scrollTop += element.scrollHeight - before.height;
    } else if (last !== before.last) {
      const mine = lastItem?.kind === 'message' && lastItem.mine;
      if (atBottom.current || mine || before.last === null) element.scrollTop = element.scrollHeight;
      if (before.last !== null && lastItem?.kind === 'message' && !lastItem.mine) {
        setAnnouncement(`${lastItem.senderName}: ${lastItem.deleted ? 'message deleted' : lastItem.text}`);
      }
    }
    previous.current = { first, last, height: element.scrollHeight };
  }, [first, last, lastItem]);

  // Reading: the conversation is on screen, so whatever arrived is read.
  useEffect(() => {
    if (document.visibilityState === 'visible' && last !== null)
      void engine.markRead(conversation.id).catch(() => undefined);
  }, [engine, conversation.id, last]);

  // Coming back to the tab reads what arrived meanwhile.
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') void engine.markRead(conversation.id).catch(() => undefined);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, [engine, conversation.id]);

  // A short history that does not fill the pane cannot be scrolled: load more until it does or there is no more.
  useEffect(() => {
    const element = scroller.current;
    if (element && view.hasOlder && !view.loadingOlder && element.scrollHeight <= element.clientHeight + EDGE)
      void engine.loadOlder(conversation.id).catch(() => undefined);
  }, [engine, conversation.id, view.hasOlder, view.loadingOlder, items.length]);

  const onScroll = () => {
    const element = scroller.current;
    if (!element) return;
    atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < EDGE;
    if (element.scrollTop < EDGE && view.hasOlder && !view.loadingOlder)
      void engine.loadOlder(conversation.id).catch(() => undefined);
  };

  return (
    <div class="timeline" ref={scroller} onScroll={onScroll} data-testid="timeline">
      {view.hasOlder && (
        <div class="timeline__older">
          <button
            type="button"
            class="button button--secondary button--sm"
            disabled={view.loadingOlder}
            onClick={() => void engine.loadOlder(conversation.id)}
          >
            {view.loadingOlder ? 'Loading earlier messages…' : 'Load earlier messages'}
          </button>
        </div>
      )}
      {!view.hasOlder && (
        <p class="timeline__start">
          This is the beginning of {conversation.kind === 'group' ? conversation.title : 'your conversation'}. Messages
          are end-to-end encrypted.
        </p>
      )}
      {groupByDay(items).map(([day, dayItems]) => (
        <section key={day} class="timeline__day" aria-label={formatDay(dayItems[0]?.at ?? '')}>
          <h3 class="day-separator">
            <span>{formatDay(dayItems[0]?.at ?? '')}</span>
          </h3>
          <ol class="timeline__items">
            {dayItems.map((item, index) =>
              item.kind === 'system' ? (
                <li key={item.id} class="system-item" data-testid="system-item">
                  {item.text}
                </li>
              ) : (
                <MessageItem
                  key={item.id}
                  message={item}
                  members={conversation.members}
                  showSender={startsRun(dayItems[index - 1], item)}
                />
              ),
            )}
          </ol>
        </section>
      ))}
      <p class="visually-hidden" aria-live="polite" data-testid="live-announcement">
        {announcement}
      </p>
    </div>
  );
}

function groupByDay(items: readonly TimelineItem[]): [string, TimelineItem[]][] {
  const days = new Map<string, TimelineItem[]>();
  for (const item of items) {
    const key = dayKey(item.at);
    const list = days.get(key);
    if (list) list.push(item);
    else days.set(key, [item]);
  }
  return [...days];
}

function startsRun(before: TimelineItem | undefined, item: TimelineItem): boolean {
  if (item.kind !== 'message' || before?.kind !== 'message') return true;
  return before.senderId !== item.senderId || new Date(item.at).getTime() - new Date(before.at).getTime() > RUN_MS;
}
