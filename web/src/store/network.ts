import { signal } from '@preact/signals';

/** What the browser says about its network (`navigator.onLine` and its events); the socket's state is the engine's. */
export const browserOnline = signal(globalThis.navigator?.onLine ?? true);

/** Follows the browser's online/offline events; `onBackOnline` runs when the network returns. */
export function watchNetwork(onBackOnline: () => void): () => void {
  const online = () => {
    browserOnline.value = true;
    onBackOnline();
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
