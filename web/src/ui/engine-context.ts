import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Engine } from '../engine/types.ts';

export const EngineContext = createContext<Engine | null>(null);

/** The one engine of the app, provided at the root. */
export function useEngine(): Engine {
  const engine = useContext(EngineContext);
  if (!engine) throw new Error('useEngine outside <EngineContext.Provider>');
  return engine;
}
