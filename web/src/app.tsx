import { useEffect } from 'preact/hooks';
import type { Engine } from './engine/types.ts';
import { navigate, paths, route } from './store/route.ts';
import { EngineContext } from './ui/engine-context.ts';
import { ForgotPasswordScreen } from './ui/ForgotPasswordScreen.tsx';
import { LoginScreen } from './ui/LoginScreen.tsx';
import { MainLayout } from './ui/MainLayout.tsx';
import { RegisterScreen } from './ui/RegisterScreen.tsx';
import { ResetPasswordScreen } from './ui/ResetPasswordScreen.tsx';
import { Splash } from './ui/Splash.tsx';

const signedOutRoutes = new Set(['login', 'register', 'forgot-password', 'reset-password']);

/** Signed out: the account screens. Starting: the splash (keys opening). Ready: the messenger. */
export function App(props: { engine: Engine }) {
  const { engine } = props;
  const status = engine.status.value;
  const current = route.value;

  // Signing in from an account screen lands on the conversation list; other routes are kept (deep links).
  useEffect(() => {
    if (status === 'ready' && signedOutRoutes.has(current.name) && current.name !== 'reset-password')
      navigate(paths.home, { replace: true });
  }, [status, current.name]);

  useEffect(() => {
    const heading = document.querySelector<HTMLElement>('.auth [data-autofocus]');
    if (status === 'signed-out') heading?.focus();
  }, [status, current.name]);

  return (
    <EngineContext.Provider value={engine}>
      {current.name === 'reset-password' && status !== 'ready' ? (
        <ResetPasswordScreen token={current.token} />
      ) : status === 'starting' ? (
        <Splash />
      ) : status === 'signed-out' ? (
        current.name === 'register' ? (
          <RegisterScreen />
        ) : current.name === 'forgot-password' ? (
          <ForgotPasswordScreen />
        ) : (
          <LoginScreen />
        )
      ) : (
        <MainLayout />
      )}
    </EngineContext.Provider>
  );
}
