import { render } from 'preact';
import { App } from './app.tsx';
import { createEngine } from './engine/index.ts';
import { loadRuntimeConfig } from './runtime-config.ts';
import { startRouting } from './store/route.ts';
import { Splash } from './ui/Splash.tsx';
import './styles/app.css';

const root = document.getElementById('app');

async function start(element: HTMLElement): Promise<void> {
  startRouting();
  let config: Awaited<ReturnType<typeof loadRuntimeConfig>>;
  try {
    config = await loadRuntimeConfig();
  } catch {
    render(<Splash message="CipherTalk cannot reach its configuration. Check your connection and reload." />, element);
    return;
  }
  const engine = createEngine({
    apiUrl: config.apiUrl,
    wsUrl: config.wsUrl,
    ...(config.callRingTimeoutSeconds ? { callRingTimeoutMs: config.callRingTimeoutSeconds * 1000 } : {}),
  });
  render(<App engine={engine} />, element);
  // The app answers input from here on (the sign-in form, or the splash while a session resumes): a mark for
  // real-user monitoring and for `npm run bench:web`.
  performance.mark('ciphertalk:interactive');
  await engine.resume();
}

if (root) void start(root);
