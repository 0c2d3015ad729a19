import type { ConversationView } from '../engine/types.ts';
import { paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';

/**
 * The warning no one should miss: a member's identity key changed (a new phone, a reinstall, or someone in the
 * middle). Stays until the user looks at the safety number or dismisses it.
 */
export function IdentityWarning(props: { conversation: ConversationView }) {
  const engine = useEngine();
  const me = engine.me.value?.id;
  const trust = engine.trust.value;
  const changed = props.conversation.members.filter((m) => m.userId !== me && trust[m.userId]?.identityChanged);
  if (changed.length === 0) return null;
  return (
    <div class="identity-warning" role="alert" data-testid="identity-warning">
      <Icon name="alert" />
      <div>
        <p>
          <strong>
            {changed.map((m) => m.displayName).join(', ')}
            {changed.length === 1 ? '’s safety number has changed.' : ': safety numbers have changed.'}
          </strong>{' '}
          This happens when someone reinstalls or uses a new device, but it could also mean someone is trying to
          intercept your messages. Compare safety numbers in person or over a trusted channel.
        </p>
        <p class="identity-warning__actions">
          {changed.map((m) => (
            <a
              key={m.userId}
              class="button button--warning button--sm"
              href={paths.safety(m.userId, props.conversation.id)}
            >
              Verify {m.displayName}
            </a>
          ))}
          <button
            type="button"
            class="button button--secondary button--sm"
            onClick={() => {
              for (const m of changed) void engine.acknowledgeIdentityChange(m.userId);
            }}
          >
            Dismiss
          </button>
        </p>
      </div>
    </div>
  );
}
