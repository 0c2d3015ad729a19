import { useState } from 'preact/hooks';
import { paths } from '../store/route.ts';
import { AuthCard } from './AuthCard.tsx';
import { useEngine } from './engine-context.ts';
import { Field } from './Field.tsx';
import { FormAlert } from './FormAlert.tsx';
import { useAction } from './use-action.ts';

export function ForgotPasswordScreen() {
  const engine = useEngine();
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState(false);
  const { busy, error, run } = useAction();
  return (
    <AuthCard
      title="Reset your password"
      intro="We'll email you a link to choose a new password."
      footer={<a href={paths.login}>Back to sign in</a>}
    >
      <form
        class="form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            await engine.requestPasswordReset(email);
            setSent(true);
          });
        }}
      >
        <FormAlert
          error={error}
          success={sent ? 'If an account uses this address, a reset link is on its way. Check your inbox.' : null}
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
        <button class="button button--primary button--block" type="submit" disabled={busy}>
          {busy ? 'Sending…' : 'Send reset link'}
        </button>
      </form>
    </AuthCard>
  );
}
