import { useEffect, useRef, useState } from 'preact/hooks';
import { paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';

/** The account menu: settings, devices, shortcuts, sign out. A disclosure button over a list of links. */
export function UserMenu() {
  const engine = useEngine();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (event: Event) => {
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !root.current?.contains(event.target as Node)) {
        setOpen(false);
        if (event instanceof KeyboardEvent) root.current?.querySelector('button')?.focus();
      }
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, [open]);
  return (
    <div class="menu" ref={root}>
      <button
        type="button"
        class="icon-button"
        aria-expanded={open}
        aria-controls="user-menu"
        aria-label="Account menu"
        data-testid="user-menu"
        onClick={() => setOpen(!open)}
      >
        <Icon name="settings" />
      </button>
      {open && (
        <ul class="menu__list" id="user-menu">
          <li>
            <a class="menu__item" href={paths.settings} onClick={() => setOpen(false)}>
              <Icon name="settings" /> Settings
            </a>
          </li>
          <li>
            <a class="menu__item" href={paths.devices} onClick={() => setOpen(false)}>
              <Icon name="devices" /> Devices
            </a>
          </li>
          <li>
            <button
              type="button"
              class="menu__item"
              onClick={() => {
                setOpen(false);
                document.dispatchEvent(new CustomEvent('ciphertalk:shortcuts'));
              }}
            >
              <Icon name="keyboard" /> Keyboard shortcuts
            </button>
          </li>
          <li>
            <button
              type="button"
              class="menu__item"
              data-testid="sign-out"
              onClick={() => {
                setOpen(false);
                void engine.logout();
              }}
            >
              <Icon name="logout" /> Sign out
            </button>
          </li>
        </ul>
      )}
    </div>
  );
}
