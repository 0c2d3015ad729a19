import { HealthResponse } from '@ciphertalk/shared/protocol';
import { signal } from '@preact/signals';
import { useEffect } from 'preact/hooks';
import { loadRuntimeConfig } from './runtime-config.ts';

type Status = { state: 'checking' } | { state: 'ready'; health: HealthResponse } | { state: 'failed'; reason: string };

const status = signal<Status>({ state: 'checking' });

async function check(): Promise<void> {
  try {
    const { apiUrl } = await loadRuntimeConfig();
    const response = await fetch(`${apiUrl}/health`);
    const parsed = HealthResponse.safeParse(await response.json());
    status.value = parsed.success
      ? { state: 'ready', health: parsed.data }
      : { state: 'failed', reason: 'The server answered in an unexpected shape' };
  } catch (error) {
    status.value = { state: 'failed', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** The shell the chat client (web client issue) grows into: for now it shows whether the backend is reachable. */
export function App() {
  useEffect(() => {
    void check();
  }, []);
  const current = status.value;
  return (
    <main>
      <h1>CipherTalk</h1>
      <p>End-to-end-encrypted messaging for your company.</p>
      <section aria-live="polite" data-testid="backend-status">
        {current.state === 'checking' && <p>Checking the server…</p>}
        {current.state === 'failed' && <p role="alert">The server cannot be reached: {current.reason}</p>}
        {current.state === 'ready' && (
          <ul>
            {Object.entries(current.health).map(([name, value]) => (
              <li key={name}>
                {name}: {value}
              </li>
            ))}
          </ul>
        )}
      </section>
    </main>
  );
}
