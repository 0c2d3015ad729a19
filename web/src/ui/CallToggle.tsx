import { Icon, type IconName } from './Icon.tsx';

/** One of the call screen's on/off controls (mute, camera, screen share): a pressed-state button. */
export function CallToggle(props: {
  pressed: boolean;
  /** The class modifier while pressed: `off` (the thing is off) or `on` (the thing is on). */
  pressedLook: 'off' | 'on';
  label: string;
  title: string;
  icon: IconName;
  disabled?: boolean;
  onToggle: () => void;
  testId: string;
}) {
  return (
    <button
      type="button"
      class={`call-control${props.pressed ? ` call-control--${props.pressedLook}` : ''}`}
      aria-pressed={props.pressed}
      aria-label={props.label}
      title={props.title}
      disabled={props.disabled}
      onClick={props.onToggle}
      data-testid={props.testId}
    >
      <Icon name={props.icon} />
    </button>
  );
}
