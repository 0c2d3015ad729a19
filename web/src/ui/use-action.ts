import { useState } from 'preact/hooks';
import { errorMessage } from './format.ts';

/** Runs one async action at a time for a form: `busy` while it runs, its error message when it failed. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  async function run(action: () => Promise<void>): Promise<boolean> {
    setBusy(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (caught) {
      setError(errorMessage(caught));
      return false;
    } finally {
      setBusy(false);
    }
  }
  return { busy, error, setError, run };
}
