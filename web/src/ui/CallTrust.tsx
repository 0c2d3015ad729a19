import { useEngine } from './engine-context.ts';
import { Icon } from './Icon.tsx';

/**
 * How far to trust who is on the line: the call's keys travel inside the end-to-end sessions, so the call is as
 * trustworthy as the peer's safety number. Says "verified", or warns when the safety number changed.
 */
export function CallTrust(props: { userId: string; displayName: string }) {
  const engine = useEngine();
  const trust = engine.trust.value[props.userId];
  if (trust?.identityChanged) {
    return (
      <p class="call-trust call-trust--changed" role="alert" data-testid="call-identity-warning">
        <Icon name="alert" /> {props.displayName}’s safety number has changed: verify it before trusting this call.
      </p>
    );
  }
  return (
    <p class="call-trust" data-testid="call-trust">
      <Icon name={trust?.verified ? 'shield' : 'lock'} /> End-to-end encrypted
      {trust?.verified ? ' · verified' : ''}
    </p>
  );
}
