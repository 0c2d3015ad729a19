import { useState } from 'preact/hooks';
import { paths } from '../store/route.ts';
import { AuthCard } from './AuthCard.tsx';
import { useEngine } from './engine-context.ts';
import { Field } from './Field.tsx';
import { FormAlert } from './FormAlert.tsx';
import { PASSWORD_MIN_LENGTH } from './limits.ts';
import { useAction } from './use-action.ts';

export function RegisterScreen() {
  const engine = useEngine();
  const [displayName, setDisplayName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, setError, run } = useAction();
  return (
    <AuthCard
      title="Create your account"
      intro="Your keys are created in this browser; the server never sees your messages."
      footer={
        <span>
          Already have an account? <a href={paths.login}>Sign in</a>
        </span>
      }
    >
      <form
        class="form"
        data-testid="register-form"
        onSubmit={(event) => {
          event.preventDefault();
          if (password.length < PASSWORD_MIN_LENGTH) {
            setError(`Choose a password of at least ${PASSWORD_MIN_LENGTH} characters.`);
            return;
          }
          void run(() => engine.register({ email, password, displayName }));
        }}
      >
        <FormAlert error={error} />
        <Field
          label="Full name"
          name="displayName"
          autoComplete="name"
          required
          maxLength={80}
          value={displayName}
          onInput={(e) => setDisplayName(e.currentTarget.value)}
        />
        <Field
          label="Work email"
          type="email"
          name="email"
          autoComplete="username"
          required
          value={email}
          onInput={(e) => setEmail(e.currentTarget.value)}
        />
        <Field
          label="Password"
          type="password"
          name="password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN_LENGTH}
          hint={`At least ${PASSWORD_MIN_LENGTH} characters. A short sentence is easy to remember.`}
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button class="button button--primary button--block" type="submit" disabled={busy}>
          {busy ? 'Creating your account and keys…' : 'Create account'}
        </button>
      </form>
    </AuthCard>
  );
}
