/** Call wording shared by the core (timeline text, previews) and the UI (the running duration). Pure. */
import type { CallEventView } from './types.ts';

/** The call event's wording in a timeline, from the viewer's side (`mine`: the viewer's side placed the call). */
export function callEventText(event: CallEventView, mine: boolean): string {
  const kind = event.media === 'video' ? 'Video call' : 'Voice call';
  const lower = event.media === 'video' ? 'video call' : 'voice call';
  switch (event.outcome) {
    case 'completed':
      return `${kind} · ${formatDuration(event.durationSeconds)}`;
    case 'missed':
      return mine ? `${kind} · No answer` : `Missed ${lower}`;
    case 'cancelled':
      return mine ? `${kind} · Cancelled` : `Missed ${lower}`;
    case 'declined':
      return `${kind} · Declined`;
    case 'busy':
      return `${kind} · Busy`;
    case 'failed':
      return `${kind} · Failed`;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${rest}` : `${m}:${rest}`;
}
