import '../styles/calls.css';
import { CallScreen } from './CallScreen.tsx';
import { useEngine } from './engine-context.ts';
import { IncomingCallDialog } from './IncomingCallDialog.tsx';

/** Whatever the current call needs on screen, above every route: the ringing dialog or the call screen. */
export function CallOverlay() {
  const engine = useEngine();
  const call = engine.call.value;
  if (!call) return null;
  if (call.state === 'incoming') return <IncomingCallDialog key={call.callId} call={call} />;
  // A call that ended while still ringing here (missed, answered elsewhere) needs no screen.
  if (call.state === 'ended' && call.direction === 'incoming' && call.startedAt === null && call.remoteStream === null)
    return null;
  return <CallScreen key={call.callId} call={call} stats={engine.callStats.value} />;
}
