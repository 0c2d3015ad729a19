import { useEffect, useRef, useState } from 'preact/hooks';
import { formatDuration } from '../engine/call-format.ts';
import type { CallStatsView, CallView } from '../engine/types.ts';
import { Avatar } from './Avatar.tsx';
import { CallToggle } from './CallToggle.tsx';
import { CallTrust } from './CallTrust.tsx';
import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';
import { useAction } from './use-action.ts';
import { VideoView } from './VideoView.tsx';

const STATUS: Record<CallView['state'], string> = {
  outgoing: 'Calling…',
  incoming: 'Ringing…',
  connecting: 'Connecting…',
  connected: '',
  ended: 'Call ended',
};

/** The call in progress: the peer's video (or avatar), one's own preview, the controls and the duration. */
export function CallScreen(props: { call: CallView; stats: CallStatsView | null }) {
  const { call, stats } = props;
  const engine = useEngine();
  const action = useAction();
  const seconds = useSecondsSince(call.startedAt);
  const hangUp = useRef<HTMLButtonElement>(null);
  // The call screen covers the app: keyboard and screen-reader focus go to it.
  useEffect(() => hangUp.current?.focus(), []);
  const status =
    call.state === 'connected'
      ? formatDuration(seconds)
      : call.state === 'ended'
        ? (call.endedReason ?? STATUS.ended)
        : call.state === 'outgoing' && call.ringing
          ? 'Ringing…'
          : STATUS[call.state];
  const live = call.state !== 'ended';
  const inbound = stats ? stats.inboundAudioBytes + stats.inboundVideoBytes : 0;
  return (
    <section class="call-screen" aria-label={`Call with ${call.peer.displayName}`} data-testid="call-screen">
      <div class="call-screen__stage">
        <div class="call-screen__avatar">
          <Avatar id={call.peer.userId} name={call.peer.displayName} size="lg" />
        </div>
        <VideoView
          class="call-screen__remote"
          stream={call.remoteStream}
          label={`${call.peer.displayName}’s video`}
          testId="remote-video"
        />
        {call.localStream && !call.cameraOff && (
          <VideoView
            class="call-screen__local"
            stream={call.localStream}
            label={call.sharingScreen ? 'Your shared screen' : 'Your camera'}
            muted
            testId="local-video"
          />
        )}
      </div>
      <div class="call-screen__bar">
        <div class="call-screen__info">
          <h2 class="call-screen__name">{call.peer.displayName}</h2>
          <p class="call-screen__status" data-testid="call-status" data-state={call.state} aria-live="polite">
            {status}
          </p>
          <CallTrust userId={call.peer.userId} displayName={call.peer.displayName} />
          {stats && (
            <span
              class={`call-quality call-quality--${stats.quality}`}
              data-testid="call-quality"
              data-quality={stats.quality}
              data-inbound-bytes={inbound}
              data-inbound-video-bytes={stats.inboundVideoBytes}
              title={stats.roundTripTimeMs === null ? 'Connection' : `Round trip ${stats.roundTripTimeMs} ms`}
            >
              {stats.quality === 'poor' ? 'Weak connection' : stats.quality === 'good' ? 'Good connection' : ''}
            </span>
          )}
        </div>
        {action.error && (
          <p class="call-error" role="alert">
            {action.error}
          </p>
        )}
        {live && (
          <div class="call-screen__controls">
            <CallToggle
              pressed={call.muted}
              pressedLook="off"
              label="Mute microphone"
              title={call.muted ? 'Unmute' : 'Mute'}
              icon="mic"
              onToggle={() => engine.setMuted(!call.muted)}
              testId="call-mute"
            />
            <CallToggle
              pressed={call.cameraOff}
              pressedLook="off"
              label="Turn camera off"
              title={call.cameraOff ? 'Camera on' : 'Camera off'}
              icon="video"
              disabled={call.state === 'outgoing' || call.sharingScreen}
              onToggle={() => void action.run(() => engine.setCameraOff(!call.cameraOff))}
              testId="call-camera"
            />
            <CallToggle
              pressed={call.sharingScreen}
              pressedLook="on"
              label="Share screen"
              title={call.sharingScreen ? 'Stop sharing' : 'Share screen'}
              icon="screen"
              disabled={call.state !== 'connected'}
              onToggle={() => void action.run(() => engine.shareScreen(!call.sharingScreen))}
              testId="call-share"
            />
            <button
              ref={hangUp}
              type="button"
              class="call-control call-control--hangup"
              aria-label="Hang up"
              title="Hang up"
              onClick={() => void action.run(() => engine.hangUp())}
              data-testid="call-hangup"
            >
              <Icon name="phone" />
            </button>
          </div>
        )}
      </div>
    </section>
  );
}

function useSecondsSince(startedAt: string | null): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!startedAt) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [startedAt]);
  return startedAt ? Math.max(0, Math.floor((now - Date.parse(startedAt)) / 1000)) : 0;
}
