import { browserOnline } from '../store/network.ts';
import { useEngine } from './engine-context.ts';

/** Says when messages cannot go out right now (they wait in the outbox) and when the app reconnects. */
export function ConnectionBanner() {
  const engine = useEngine();
  const state = browserOnline.value ? engine.connection.value : 'offline';
  const problem = engine.problem.value;
  return (
    <div class="connection" data-testid="connection-state" data-state={state}>
      {state !== 'online' && (
        <p class={`connection__banner connection__banner--${state}`} role="status">
          {state === 'offline'
            ? 'You are offline. Messages you send will go out when the connection is back.'
            : 'Connecting…'}
        </p>
      )}
      {problem && (
        <p class="connection__banner connection__banner--problem" role="alert">
          {problem}
        </p>
      )}
    </div>
  );
}
