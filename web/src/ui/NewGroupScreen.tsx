import { useState } from 'preact/hooks';
import type { UserSummaryView } from '../engine/types.ts';
import { navigate, paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { Field } from './Field.tsx';
import { FormAlert } from './FormAlert.tsx';
import { Icon } from './Icon.tsx';
import { MAX_GROUP_NAME_LENGTH } from './limits.ts';
import { PageHeader } from './PageHeader.tsx';
import { UserPicker } from './UserPicker.tsx';
import { useAction } from './use-action.ts';

/** Name a group and choose its first members; the creator owns it. */
export function NewGroupScreen() {
  const engine = useEngine();
  const [name, setName] = useState('');
  const [members, setMembers] = useState<UserSummaryView[]>([]);
  const { busy, error, run } = useAction();
  return (
    <section class="page">
      <PageHeader title="New group" back={paths.home} />
      <form
        class="page__body form"
        data-testid="new-group-form"
        onSubmit={(event) => {
          event.preventDefault();
          void run(async () => {
            const id = await engine.createGroup(
              name.trim(),
              members.map((m) => m.id),
            );
            navigate(paths.chat(id), { replace: true });
          });
        }}
      >
        <FormAlert error={error} />
        <Field
          label="Group name"
          required
          maxLength={MAX_GROUP_NAME_LENGTH}
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          data-testid="group-name"
        />
        <fieldset class="fieldset">
          <legend>Members ({members.length})</legend>
          {members.length > 0 && (
            <ul class="chips" aria-label="Chosen members">
              {members.map((m) => (
                <li key={m.id} class="chip">
                  {m.displayName}
                  <button
                    type="button"
                    class="chip__remove"
                    aria-label={`Remove ${m.displayName}`}
                    onClick={() => setMembers(members.filter((x) => x.id !== m.id))}
                  >
                    <Icon name="x" />
                  </button>
                </li>
              ))}
            </ul>
          )}
          <UserPicker
            label="Add people"
            actionLabel="Add"
            exclude={members.map((m) => m.id)}
            onPick={(user) => setMembers([...members, user])}
          />
        </fieldset>
        <button class="button button--primary" type="submit" disabled={busy || !name.trim()} data-testid="create-group">
          {busy ? 'Creating…' : 'Create group'}
        </button>
      </form>
    </section>
  );
}
