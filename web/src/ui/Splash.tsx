import { Icon } from './Icon.tsx';

/** While the session resumes and this browser's keys open (or are created on first sign-in). */
export function Splash(props: { message?: string }) {
  return (
    <main class="splash" id="main" aria-busy="true">
      <p class="splash__brand">
        <Icon name="lock" /> CipherTalk
      </p>
      <p role="status" data-testid="splash">
        {props.message ?? 'Opening your encrypted messages…'}
      </p>
    </main>
  );
}
