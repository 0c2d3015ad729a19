import type { ConversationView } from '../engine/types.ts';
import { useEngine } from './engine-context.ts';

/** "Ada is typing…" under the timeline; a polite status, so screen readers hear it without being interrupted. */
export function TypingIndicator(props: { conversation: ConversationView }) {
  const engine = useEngine();
  const me = engine.me.value?.id;
  const typing = engine
    .typingIn(props.conversation.id)
    .value.filter((id) => id !== me)
    .map((id) => props.conversation.members.find((m) => m.userId === id)?.displayName ?? 'Someone');
  const text =
    typing.length === 0
      ? ''
      : typing.length === 1
        ? `${typing[0]} is typing…`
        : typing.length === 2
          ? `${typing[0]} and ${typing[1]} are typing…`
          : 'Several people are typing…';
  return (
    <p class="typing" role="status" data-testid="typing-indicator">
      {text && <span class="typing__dots" aria-hidden="true" />}
      {text}
    </p>
  );
}
