import type { MessageView } from '../engine/types.ts';
import { formatFull, formatTime } from './format.ts';
import { Icon } from './Icon.tsx';

/** A call event in the timeline ("Video call · 2:13", "Missed voice call"), centred like a system item. */
export function CallEventItem(props: { message: MessageView }) {
  const { message: m } = props;
  const call = m.call;
  if (!call) return null;
  const missed = !m.mine && (call.outcome === 'missed' || call.outcome === 'cancelled');
  return (
    <li
      class={`call-event${missed ? ' call-event--missed' : ''}`}
      data-testid="call-event"
      data-outcome={call.outcome}
      data-media={call.media}
      data-seq={m.seq ?? undefined}
    >
      <Icon name={call.media === 'video' ? 'video' : 'phone'} />
      <span data-testid="call-event-text">{m.text}</span>
      <time dateTime={m.at} title={formatFull(m.at)}>
        {formatTime(m.at)}
      </time>
    </li>
  );
}
