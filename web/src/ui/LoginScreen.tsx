import { useState } from 'preact/hooks';
import { paths } from '../store/route.ts';
import { AuthCard } from './AuthCard.tsx';
import { useEngine } from './engine-context.ts';
import { Field } from './Field.tsx';
import { FormAlert } from './FormAlert.tsx';
import { useAction } from './use-action.ts';

export function LoginScreen() {
  const engine = useEngine();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const { busy, error, run } = useAction();
  return (
    <AuthCard
      title="Sign in"
      intro="Welcome back. Sign in to read and send your messages."
      footer={
        <>
          <a href={paths.forgotPassword}>Forgot your password?</a>
          <span>
            New here? <a href={paths.register}>Create an account</a>
          </span>
        </>
      }
    >
      <form
        class="form"
        data-testid="login-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(() => engine.login({ email, password }));
        }}
      >
        <FormAlert error={error ?? engine.problem.value} />
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
          autoComplete="current-password"
          required
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <button class="button button--primary button--block" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </AuthCard>
  );
}
