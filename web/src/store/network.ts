import { signal } from '@preact/signals';

/** What the browser says about its network (`navigator.onLine` and its events); the socket's state is the engine's. */
export const browserOnline = signal(globalThis.navigator?.onLine ?? true);

/** Follows the browser's online/offline events. */
export function watchNetwork(): () => void {
  const online = () => {
    browserOnline.value = true;
  };
  const offline = () => {
    browserOnline.value = false;
  };
  addEventListener('online', online);
  addEventListener('offline', offline);
  return () => {
    removeEventListener('online', online);
    removeEventListener('offline', offline);
  };
}
