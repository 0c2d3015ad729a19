import { useEffect, useRef, useState } from 'preact/hooks';
import { paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';

/** The account menu: settings, devices, shortcuts, sign out. A disclosure button over a list of links. */
export function UserMenu() {
  const engine = useEngine();
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (event: Event) => {
      // composedPath, not contains(target): a click inside may have re-rendered (and detached) its target already.
      const inside = root.current !== null && event.composedPath().includes(root.current);
      if (event instanceof KeyboardEvent ? event.key === 'Escape' : !inside) {
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
            {confirming ? (
              <div class="menu__confirm">
                <p>Signing out removes this browser’s keys and its copy of your messages.</p>
                <button
                  type="button"
                  class="button button--danger button--sm"
                  data-testid="confirm-sign-out"
                  aria-label="Sign out and remove this browser’s keys and messages"
                  onClick={() => {
                    setOpen(false);
                    setConfirming(false);
                    void engine.logout();
                  }}
                >
                  Sign out
                </button>
              </div>
            ) : (
              <button type="button" class="menu__item" data-testid="sign-out" onClick={() => setConfirming(true)}>
                <Icon name="logout" /> Sign out…
              </button>
            )}
          </li>
        </ul>
      )}
    </div>
  );
}
