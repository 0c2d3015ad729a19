import type { MessageState } from '../engine/types.ts';
import { Icon } from './Icon.tsx';

const labels: Record<MessageState, string> = {
  sending: 'Sending',
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
  failed: 'Not sent',
};

/** The ticks of one's own message: clock, one tick, two ticks, two blue ticks, or a warning. */
export function MessageStatus(props: { state: MessageState }) {
  const { state } = props;
  const icon = state === 'sending' ? 'clock' : state === 'sent' ? 'check' : state === 'failed' ? 'alert' : 'checks';
  return (
    <span class={`message-status message-status--${state}`} data-testid="message-status" data-state={state}>
      <Icon name={icon} />
      <span class="visually-hidden">{labels[state]}</span>
    </span>
  );
}
