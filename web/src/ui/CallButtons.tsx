import type { CallMedia, ConversationView } from '../engine/types.ts';
import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';
import { useAction } from './use-action.ts';

/** Voice and video call buttons for the chat header of a direct conversation. */
export function CallButtons(props: { conversation: ConversationView }) {
  const engine = useEngine();
  const action = useAction();
  const call = engine.call.value;
  if (props.conversation.kind !== 'direct') return null;
  const inCall = call !== null && call.state !== 'ended';
  const name = props.conversation.title;
  const start = (media: CallMedia) => void action.run(() => engine.startCall(props.conversation.id, media));
  return (
    <>
      {action.error && (
        <span class="call-error" role="alert" data-testid="call-error">
          {action.error}
        </span>
      )}
      <button
        type="button"
        class="icon-button"
        aria-label={`Voice call with ${name}`}
        title="Voice call"
        disabled={inCall || action.busy}
        onClick={() => start('audio')}
        data-testid="call-voice"
      >
        <Icon name="phone" />
      </button>
      <button
        type="button"
        class="icon-button"
        aria-label={`Video call with ${name}`}
        title="Video call"
        disabled={inCall || action.busy}
        onClick={() => start('video')}
        data-testid="call-video"
      >
        <Icon name="video" />
      </button>
    </>
  );
}
