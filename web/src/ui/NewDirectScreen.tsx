import { navigate, paths } from '../store/route.ts';
import { useEngine } from './engine-context.ts';
import { FormAlert } from './FormAlert.tsx';
import { PageHeader } from './PageHeader.tsx';
import { UserPicker } from './UserPicker.tsx';
import { useAction } from './use-action.ts';

/** Start (or reopen) a one-to-one conversation with a colleague. */
export function NewDirectScreen() {
  const engine = useEngine();
  const { busy, error, run } = useAction();
  return (
    <section class="page">
      <PageHeader title="New chat" back={paths.home} />
      <div class="page__body">
        <FormAlert error={error} />
        <UserPicker
          label="Find a colleague"
          actionLabel={busy ? 'Opening…' : 'Message'}
          onPick={(user) =>
            void run(async () => {
              const id = await engine.createDirect(user.id);
              navigate(paths.chat(id), { replace: true });
            })
          }
        />
      </div>
    </section>
  );
}
