import { useState } from 'preact/hooks';
import { navigate, paths } from '../store/route.ts';
import { AuthCard } from './AuthCard.tsx';
import { useEngine } from './engine-context.ts';
import { Field } from './Field.tsx';
import { FormAlert } from './FormAlert.tsx';
import { PASSWORD_MIN_LENGTH } from './limits.ts';
import { useAction } from './use-action.ts';

export function ResetPasswordScreen(props: { token: string }) {
  const engine = useEngine();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [done, setDone] = useState(false);
  const { busy, error, setError, run } = useAction();
  if (!props.token)
    return (
      <AuthCard title="Reset link incomplete" footer={<a href={paths.forgotPassword}>Ask for a new link</a>}>
        <p>This link has no reset token. Open the link from the email again, or ask for a new one.</p>
      </AuthCard>
    );
  return (
    <AuthCard
      title="Choose a new password"
      intro="Every other session is signed out when the password changes."
      footer={<a href={paths.login}>Back to sign in</a>}
    >
      {done ? (
        <>
          <FormAlert success="Your password has been changed." />
          <button class="button button--primary button--block" type="button" onClick={() => navigate(paths.login)}>
            Sign in
          </button>
        </>
      ) : (
        <form
          class="form"
          onSubmit={(event) => {
            event.preventDefault();
            if (password !== confirm) return setError('The two passwords differ.');
            void run(async () => {
              await engine.confirmPasswordReset(props.token, password);
              setDone(true);
            });
          }}
        >
          <FormAlert error={error} />
          <Field
            label="New password"
            type="password"
            autoComplete="new-password"
            required
            minLength={PASSWORD_MIN_LENGTH}
            hint={`At least ${PASSWORD_MIN_LENGTH} characters.`}
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
          <Field
            label="Repeat the new password"
            type="password"
            autoComplete="new-password"
            required
            value={confirm}
            onInput={(e) => setConfirm(e.currentTarget.value)}
          />
          <button class="button button--primary button--block" type="submit" disabled={busy}>
            {busy ? 'Saving…' : 'Change password'}
          </button>
        </form>
      )}
    </AuthCard>
  );
}
