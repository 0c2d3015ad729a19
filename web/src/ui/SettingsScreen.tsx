import { useState } from 'preact/hooks';
import { paths } from '../store/route.ts';
import { AvatarPicker } from './AvatarPicker.tsx';
import { useEngine } from './engine-context.ts';
import { Field } from './Field.tsx';
import { FormAlert } from './FormAlert.tsx';
import { PASSWORD_MIN_LENGTH } from './limits.ts';
import { PageHeader } from './PageHeader.tsx';
import { useAction } from './use-action.ts';

/** Profile (display name), password, and signing out of every browser at once. */
export function SettingsScreen() {
  const engine = useEngine();
  const me = engine.me.value;
  const [displayName, setDisplayName] = useState(me?.displayName ?? '');
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [profileSaved, setProfileSaved] = useState(false);
  const [passwordSaved, setPasswordSaved] = useState(false);
  const [confirmAll, setConfirmAll] = useState(false);
  const profile = useAction();
  const password = useAction();
  const everywhere = useAction();
  return (
    <section class="page" data-testid="settings">
      <PageHeader title="Settings" back={paths.home} />
      <div class="page__body">
        <form
          class="card form"
          aria-labelledby="profile-title"
          onSubmit={(event) => {
            event.preventDefault();
            setProfileSaved(false);
            void profile.run(async () => {
              await engine.updateDisplayName(displayName.trim());
              setProfileSaved(true);
            });
          }}
        >
          <h2 id="profile-title" class="card__title">
            Profile
          </h2>
          <FormAlert error={profile.error} success={profileSaved ? 'Your name has been saved.' : null} />
          <p class="card__text">
            Signed in as <strong>{me?.email}</strong>
          </p>
          {me && (
            <AvatarPicker
              id={me.id}
              name={me.displayName}
              label="picture"
              onPick={(file) => engine.setMyAvatar(file)}
            />
          )}
          <Field
            label="Display name"
            required
            maxLength={80}
            autoComplete="name"
            value={displayName}
            onInput={(e) => setDisplayName(e.currentTarget.value)}
          />
          <button class="button button--primary" type="submit" disabled={profile.busy}>
            Save name
          </button>
        </form>

        <form
          class="card form"
          aria-labelledby="password-title"
          onSubmit={(event) => {
            event.preventDefault();
            setPasswordSaved(false);
            if (newPassword.length < PASSWORD_MIN_LENGTH)
              return password.setError(`Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`);
            void password.run(async () => {
              await engine.changePassword(currentPassword, newPassword);
              setCurrentPassword('');
              setNewPassword('');
              setPasswordSaved(true);
            });
          }}
        >
          <h2 id="password-title" class="card__title">
            Password
          </h2>
          <FormAlert
            error={password.error}
            success={passwordSaved ? 'Password changed. Your other sessions have been signed out.' : null}
          />
          <Field
            label="Current password"
            type="password"
            autoComplete="current-password"
            required
            value={currentPassword}
            onInput={(e) => setCurrentPassword(e.currentTarget.value)}
          />
          <Field
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            minLength={PASSWORD_MIN_LENGTH}
            hint={`At least ${PASSWORD_MIN_LENGTH} characters.`}
            value={newPassword}
            onInput={(e) => setNewPassword(e.currentTarget.value)}
          />
          <button class="button button--primary" type="submit" disabled={password.busy}>
            Change password
          </button>
        </form>

        <section class="card" aria-labelledby="sessions-title">
          <h2 id="sessions-title" class="card__title">
            Sessions
          </h2>
          <p class="card__text">
            Lost a laptop or signed in somewhere you shouldn’t have? Sign out of every browser, this one included.
            Manage the encryption keys of each browser under <a href={paths.devices}>Devices</a>.
          </p>
          <FormAlert error={everywhere.error} />
          {confirmAll ? (
            <div class="confirm" role="alertdialog" aria-label="Sign out everywhere?">
              <p>Sign out of every session now?</p>
              <button
                type="button"
                class="button button--danger"
                data-testid="confirm-logout-all"
                disabled={everywhere.busy}
                onClick={() => void everywhere.run(() => engine.logoutAll())}
              >
                Sign out everywhere
              </button>
              <button type="button" class="button button--secondary" onClick={() => setConfirmAll(false)}>
                Cancel
              </button>
            </div>
          ) : (
            <button
              type="button"
              class="button button--danger-quiet"
              onClick={() => setConfirmAll(true)}
              data-testid="logout-all"
            >
              Sign out everywhere…
            </button>
          )}
        </section>
      </div>
    </section>
  );
}
