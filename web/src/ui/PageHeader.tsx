import type { ComponentChildren } from 'preact';
import { Icon } from './Icon.tsx';

/** The title bar of a page in the main pane, with a way back to where the page was opened from. */
export function PageHeader(props: { title: string; back: string; backLabel?: string; children?: ComponentChildren }) {
  return (
    <header class="page-header">
      <a class="icon-button page-header__back" href={props.back} aria-label={props.backLabel ?? 'Back'}>
        <Icon name="back" />
      </a>
      <h1 class="page-header__title" tabIndex={-1} data-autofocus>
        {props.title}
      </h1>
      {props.children}
    </header>
  );
}
