import type { ConversationView } from '../engine/types.ts';
import { ChatHeader } from './ChatHeader.tsx';
import { Composer } from './Composer.tsx';
import { IdentityWarning } from './IdentityWarning.tsx';
import { Timeline } from './Timeline.tsx';
import { TypingIndicator } from './TypingIndicator.tsx';

/** The open conversation: header, warning when a safety number changed, messages, who is typing, composer. */
export function ChatView(props: { conversation: ConversationView }) {
  const { conversation } = props;
  return (
    <section class="chat" aria-label={`Conversation with ${conversation.title}`} data-testid="chat-view">
      <ChatHeader conversation={conversation} />
      <IdentityWarning conversation={conversation} />
      <Timeline conversation={conversation} />
      <TypingIndicator conversation={conversation} />
      <Composer conversation={conversation} />
    </section>
  );
}
