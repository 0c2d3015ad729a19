import { useEffect, useState } from 'preact/hooks';
import type { UserSummaryView } from '../engine/types.ts';
import { Avatar } from './Avatar.tsx';
import { useEngine } from './engine-context.ts';
import { errorMessage } from './format.ts';

/**
 * Finds colleagues in the directory (a name's start, or a whole email address) as the user types; results are a
 * list of buttons. `exclude` hides people already chosen or already members.
 */
export function UserPicker(props: {
  label: string;
  onPick: (user: UserSummaryView) => void;
  exclude?: readonly string[];
  actionLabel?: string;
}) {
  const engine = useEngine();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<readonly UserSummaryView[]>([]);
  const [state, setState] = useState<'idle' | 'searching' | 'done' | 'error'>('idle');
  const [error, setError] = useState('');
  const me = engine.me.value?.id;

  useEffect(() => {
    const q = query.trim();
    if (q.length < 3) {
      setResults([]);
      setState('idle');
      return;
    }
    let current = true;
    setState('searching');
    const timer = setTimeout(() => {
      engine.searchUsers(q).then(
        (found) => {
          if (!current) return;
          setResults(found);
          setState('done');
        },
        (caught) => {
          if (!current) return;
          setError(errorMessage(caught));
          setState('error');
        },
      );
    }, 200);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [engine, query]);

  const shown = results.filter((u) => u.id !== me && !props.exclude?.includes(u.id));
  return (
    <div class="user-picker">
      <label class="field__label" for="user-picker-input">
        {props.label}
      </label>
      <input
        id="user-picker-input"
        class="input"
        type="search"
        autoComplete="off"
        placeholder="Name or email address"
        aria-describedby="user-picker-status"
        value={query}
        onInput={(e) => setQuery(e.currentTarget.value)}
        data-testid="user-search"
      />
      <p id="user-picker-status" class="field__hint" role="status">
        {state === 'idle' && 'Type at least three letters of a name, or a whole email address.'}
        {state === 'searching' && 'Searching…'}
        {state === 'done' && (shown.length === 0 ? 'No one found.' : `${shown.length} found.`)}
        {state === 'error' && error}
      </p>
      {shown.length > 0 && (
        <ul class="user-list">
          {shown.map((user) => (
            <li key={user.id}>
              <button
                type="button"
                class="user-list__item"
                data-testid="user-result"
                onClick={() => props.onPick(user)}
              >
                <Avatar id={user.id} name={user.displayName} size="sm" />
                <span class="user-list__name">
                  {user.displayName}
                  {user.email && <span class="user-list__email">{user.email}</span>}
                </span>
                <span class="user-list__action">{props.actionLabel ?? 'Choose'}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
