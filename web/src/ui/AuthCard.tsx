import type { ComponentChildren } from 'preact';
import { Icon } from './Icon.tsx';

/** The frame of the signed-out screens: brand, one card, a footer of links. */
export function AuthCard(props: {
  title: string;
  intro?: string;
  children: ComponentChildren;
  footer?: ComponentChildren;
}) {
  return (
    <main class="auth" id="main">
      <div class="auth__card">
        <p class="auth__brand">
          <Icon name="lock" /> CipherTalk
        </p>
        <h1 class="auth__title" tabIndex={-1} data-autofocus>
          {props.title}
        </h1>
        {props.intro && <p class="auth__intro">{props.intro}</p>}
        {props.children}
        {props.footer && <div class="auth__footer">{props.footer}</div>}
      </div>
      <p class="auth__note">Messages are end-to-end encrypted: only the people in a conversation can read them.</p>
    </main>
  );
}
