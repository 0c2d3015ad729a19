import { useEffect, useRef } from 'preact/hooks';
import type { CallView } from '../engine/types.ts';
import { Avatar } from './Avatar.tsx';
import { CallTrust } from './CallTrust.tsx';
import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';
import { useAction } from './use-action.ts';

/** A call rings on this device: accept with or without the camera, or decline. A modal <dialog>. */
export function IncomingCallDialog(props: { call: CallView }) {
  const { call } = props;
  const engine = useEngine();
  const action = useAction();
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (element && !element.open) element.showModal();
    return () => element?.close();
  }, []);
  const kind = call.media === 'video' ? 'Video call' : 'Voice call';
  return (
    <dialog
      ref={dialog}
      class="dialog incoming-call"
      aria-labelledby="incoming-call-title"
      data-testid="incoming-call"
      onCancel={(event) => {
        event.preventDefault();
        void action.run(() => engine.declineCall());
      }}
    >
      <div class="incoming-call__who">
        <Avatar id={call.peer.userId} name={call.peer.displayName} />
        <div>
          <h2 id="incoming-call-title">{call.peer.displayName}</h2>
          <p class="incoming-call__kind" data-testid="incoming-call-kind">
            {kind} · ringing
          </p>
        </div>
      </div>
      <CallTrust userId={call.peer.userId} displayName={call.peer.displayName} />
      {action.error && (
        <p class="call-error" role="alert">
          {action.error}
        </p>
      )}
      <div class="incoming-call__actions">
        <button
          type="button"
          class="button button--danger"
          disabled={action.busy}
          onClick={() => void action.run(() => engine.declineCall())}
          data-testid="call-decline"
        >
          Decline
        </button>
        <button
          type="button"
          class="button button--secondary"
          disabled={action.busy}
          onClick={() => void action.run(() => engine.acceptCall('audio'))}
          data-testid="call-accept-audio"
        >
          <Icon name="phone" /> Accept voice
        </button>
        <button
          type="button"
          class="button button--primary"
          disabled={action.busy}
          onClick={() => void action.run(() => engine.acceptCall('video'))}
          data-testid="call-accept-video"
        >
          <Icon name="video" /> Accept video
        </button>
      </div>
    </dialog>
  );
}
