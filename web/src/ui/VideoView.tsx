import { useEffect, useRef } from 'preact/hooks';

/** A <video> showing a MediaStream (`srcObject` cannot be set as an attribute). */
export function VideoView(props: {
  stream: MediaStream | null;
  label: string;
  muted?: boolean;
  class?: string;
  testId: string;
}) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    const element = video.current;
    if (!element) return;
    if (element.srcObject !== props.stream) element.srcObject = props.stream;
    if (props.stream) void element.play().catch(() => undefined);
  }, [props.stream]);
  return (
    <video
      ref={video}
      class={props.class}
      autoplay
      playsInline
      muted={props.muted ?? false}
      data-testid={props.testId}
      aria-label={props.label}
    />
  );
}
