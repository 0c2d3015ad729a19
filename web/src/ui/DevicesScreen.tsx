import { useEffect, useState } from 'preact/hooks';
import { paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { FormAlert } from './FormAlert.tsx';
import { formatMedium } from './format.ts';
import { Icon } from './Icon.tsx';
import { PageHeader } from './PageHeader.tsx';
import { useAction } from './use-action.ts';

/** The browsers holding keys for this account; revoking one stops it receiving messages. */
export function DevicesScreen() {
  const engine = useEngine();
  const devices = engine.devices.value;
  const [confirming, setConfirming] = useState<number | null>(null);
  const { busy, error, run } = useAction();
  useEffect(() => {
    void engine.refreshDevices().catch(() => undefined);
  }, [engine]);
  return (
    <section class="page" data-testid="devices">
      <PageHeader title="Devices" back={paths.home} />
      <div class="page__body">
        <p class="page__intro">
          Each browser you sign in with gets its own encryption keys. Messages are encrypted for every device listed
          here. Revoke one you no longer use or don’t recognise.
        </p>
        <FormAlert error={error} />
        <ul class="device-list" data-testid="device-list">
          {devices.map((d) => (
            <li key={d.deviceId} class="device" data-testid="device">
              <Icon name="devices" />
              <span class="device__text">
                <span class="device__name">
                  {d.name}
                  {d.current && <span class="badge badge--quiet">This browser</span>}
                </span>
                <span class="device__meta">
                  Added {formatMedium(d.createdAt)} · last active {formatMedium(d.lastSeenAt)} · {d.preKeysRemaining}{' '}
                  one-time keys left
                </span>
              </span>
              {!d.current &&
                (confirming === d.deviceId ? (
                  <span class="device__confirm" role="alertdialog" aria-label={`Revoke ${d.name}?`}>
                    <button
                      type="button"
                      class="button button--danger button--sm"
                      disabled={busy}
                      onClick={() =>
                        void run(async () => {
                          await engine.revokeDevice(d.deviceId);
                          setConfirming(null);
                        })
                      }
                    >
                      Revoke
                    </button>
                    <button
                      type="button"
                      class="button button--secondary button--sm"
                      onClick={() => setConfirming(null)}
                    >
                      Cancel
                    </button>
                  </span>
                ) : (
                  <button
                    type="button"
                    class="button button--danger-quiet button--sm"
                    aria-label={`Revoke ${d.name}`}
                    onClick={() => setConfirming(d.deviceId)}
                  >
                    Revoke…
                  </button>
                ))}
            </li>
          ))}
        </ul>
      </div>
    </section>
  );
}
