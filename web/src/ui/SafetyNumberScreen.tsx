import { useEffect, useState } from 'preact/hooks';
import type { SafetyNumberView } from '../engine/types.ts';
import { paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { FormAlert } from './FormAlert.tsx';
import { errorMessage } from './format.ts';
import { Icon } from './Icon.tsx';
import { PageHeader } from './PageHeader.tsx';
import { QrCode } from './QrCode.tsx';

const base64Bytes = (value: string) => Array.from(atob(value), (char) => char.charCodeAt(0));

const kindText = {
  pqxdh: 'post-quantum key agreement (PQXDH with ML-KEM-1024)',
  x3dh: 'classical key agreement (X3DH): that device has not published post-quantum keys',
  none: 'no session yet',
} as const;

/**
 * The 60 digits both people see (the same on both sides) and the QR code of the scannable fingerprint; marking
 * the contact verified once they match; the warning when the contact's identity key changed.
 */
export function SafetyNumberScreen(props: { userId: string; conversationId: string | null }) {
  const engine = useEngine();
  const [view, setView] = useState<SafetyNumberView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const member = engine.conversations.value.flatMap((c) => c.members).find((m) => m.userId === props.userId);
  const name = member?.displayName ?? 'this contact';
  const trust = engine.trust.value[props.userId];

  useEffect(() => {
    let current = true;
    engine.safetyNumber(props.userId).then(
      (result) => current && setView(result),
      (caught) => current && setError(errorMessage(caught)),
    );
    return () => {
      current = false;
    };
  }, [engine, props.userId, version, trust?.verified, trust?.identityChanged]);

  const back = props.conversationId ? paths.chat(props.conversationId) : paths.home;
  return (
    <section class="page" data-testid="safety-screen">
      <PageHeader title={`Safety number with ${name}`} back={back} backLabel="Back to the conversation" />
      <div class="page__body safety">
        <FormAlert error={error} />
        {!view && !error && <p role="status">Computing the safety number…</p>}
        {view && (
          <>
            {view.identityChanged && (
              <div class="identity-warning" role="alert" data-testid="identity-changed">
                <Icon name="alert" />
                <p>
                  <strong>{name}’s safety number has changed.</strong> Compare the new number with {name} before
                  trusting this conversation again.
                </p>
              </div>
            )}
            <p class="safety__intro">
              To check that your messages with {name} are end-to-end encrypted and no one is in between, compare these
              numbers with the ones on {name}’s screen, or scan the code with their device. They are the same on both
              sides.
            </p>
            <div class="safety__layout">
              <QrCode bytes={base64Bytes(view.qrPayload)} label={`QR code of your safety number with ${name}`} />
              <p class="safety__digits" data-testid="safety-digits">
                <span class="visually-hidden">Safety number: </span>
                {view.groups.map((group, index) => (
                  <span key={index} class="safety__group">
                    {group}{' '}
                  </span>
                ))}
              </p>
            </div>
            <section class="safety__sessions" aria-label="Sessions">
              <h2 class="safety__sessions-title">Sessions with {name}’s devices</h2>
              <ul>
                {view.sessions.map((session) => (
                  <li key={session.deviceId} data-testid="session-kind" data-kind={session.kind}>
                    Device {session.deviceId}: {kindText[session.kind]}
                  </li>
                ))}
              </ul>
            </section>
            <p class="safety__state" data-testid="verification-state">
              {view.verified ? (
                <span class="verified-badge verified-badge--large">
                  <Icon name="shield" /> You have verified {name}
                </span>
              ) : (
                <span>Not verified yet.</span>
              )}
            </p>
            <button
              type="button"
              class={`button ${view.verified ? 'button--secondary' : 'button--primary'}`}
              data-testid="toggle-verified"
              onClick={() =>
                void engine.markVerified(props.userId, !view.verified).then(
                  () => setVersion(version + 1),
                  (caught) => setError(errorMessage(caught)),
                )
              }
            >
              {view.verified ? 'Clear verification' : 'Mark as verified'}
            </button>
          </>
        )}
      </div>
    </section>
  );
}
