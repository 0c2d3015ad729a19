import { useState } from 'preact/hooks';
import type { ConversationView, MemberRole } from '../engine/types.ts';
import { navigate, paths } from '../store/route.ts';
import { Avatar } from './Avatar.tsx';
import { AvatarPicker } from './AvatarPicker.tsx';
import { useEngine } from './engine-context.ts';
import { Field } from './Field.tsx';
import { FormAlert } from './FormAlert.tsx';
import { formatLastSeen } from './format.ts';
import { Icon } from './Icon.tsx';
import { MAX_GROUP_NAME_LENGTH } from './limits.ts';
import { PageHeader } from './PageHeader.tsx';
import { UserPicker } from './UserPicker.tsx';
import { useAction } from './use-action.ts';

const roleNames: Record<MemberRole, string> = { owner: 'Owner', admin: 'Admin', member: 'Member' };

/**
 * A conversation's people: presence, roles, safety numbers; for groups, renaming and adding members (owner and
 * admins), removing members (owner and admins), changing roles (owner), and leaving.
 */
export function ConversationDetails(props: { conversation: ConversationView }) {
  const { conversation: c } = props;
  const engine = useEngine();
  const me = engine.me.value?.id;
  const trust = engine.trust.value;
  const [name, setName] = useState(c.name ?? '');
  const [adding, setAdding] = useState(false);
  const [confirmLeave, setConfirmLeave] = useState(false);
  const { busy, error, run } = useAction();
  const [saved, setSaved] = useState<string | null>(null);
  const isGroup = c.kind === 'group';
  const canManage = isGroup && (c.myRole === 'owner' || c.myRole === 'admin');
  const act = (action: () => Promise<void>, done: string) =>
    void run(async () => {
      setSaved(null);
      await action();
      setSaved(done);
    });

  return (
    <section class="page" data-testid="conversation-details">
      <PageHeader
        title={isGroup ? 'Group details' : 'Conversation details'}
        back={paths.chat(c.id)}
        backLabel="Back to the conversation"
      />
      <div class="page__body">
        <FormAlert error={error} success={saved} />
        {isGroup && canManage && (
          <AvatarPicker
            id={c.id}
            name={c.title}
            label="group picture"
            onPick={(file) => engine.setGroupAvatar(c.id, file)}
          />
        )}
        {isGroup && canManage && (
          <form
            class="form form--inline"
            onSubmit={(event) => {
              event.preventDefault();
              act(() => engine.rename(c.id, name.trim()), 'Group renamed.');
            }}
          >
            <Field
              label="Group name"
              required
              maxLength={MAX_GROUP_NAME_LENGTH}
              value={name}
              onInput={(e) => setName(e.currentTarget.value)}
            />
            <button
              class="button button--secondary"
              type="submit"
              disabled={busy || !name.trim() || name.trim() === c.name}
            >
              Rename
            </button>
          </form>
        )}
        <h2 class="section-title">
          {c.members.length} {c.members.length === 1 ? 'member' : 'members'}
        </h2>
        <ul class="member-list" data-testid="member-list">
          {c.members.map((m) => {
            const isMe = m.userId === me;
            const t = trust[m.userId];
            return (
              <li key={m.userId} class="member" data-testid="member" data-user-id={m.userId}>
                <Avatar id={m.userId} name={m.displayName} presence={m.presence} size="sm" />
                <span class="member__text">
                  <span class="member__name">
                    {isMe ? `${m.displayName} (you)` : m.displayName}
                    {t?.verified && (
                      <span class="verified-badge">
                        <Icon name="shield" /> Verified
                      </span>
                    )}
                    {t?.identityChanged && <span class="warning-badge">Safety number changed</span>}
                  </span>
                  <span class="member__meta">
                    {roleNames[m.role]} · {m.presence === 'online' ? 'online' : formatLastSeen(m.lastSeenAt)}
                  </span>
                </span>
                <span class="member__actions">
                  {!isMe && (
                    <a class="button button--secondary button--sm" href={paths.safety(m.userId, c.id)}>
                      Safety number
                    </a>
                  )}
                  {isGroup && c.myRole === 'owner' && !isMe && (
                    <>
                      <label class="visually-hidden" for={`role-${m.userId}`}>
                        Role of {m.displayName}
                      </label>
                      <select
                        id={`role-${m.userId}`}
                        class="select"
                        value={m.role}
                        disabled={busy}
                        data-testid="member-role"
                        onChange={(e) =>
                          act(
                            () => engine.changeRole(c.id, m.userId, e.currentTarget.value as MemberRole),
                            `${m.displayName} is now ${roleNames[e.currentTarget.value as MemberRole].toLowerCase()}.`,
                          )
                        }
                      >
                        <option value="member">Member</option>
                        <option value="admin">Admin</option>
                        <option value="owner">Owner</option>
                      </select>
                    </>
                  )}
                  {canManage && !isMe && m.role !== 'owner' && (
                    <button
                      type="button"
                      class="button button--danger-quiet button--sm"
                      disabled={busy}
                      data-testid="remove-member"
                      aria-label={`Remove ${m.displayName}`}
                      onClick={() => act(() => engine.removeMember(c.id, m.userId), `${m.displayName} was removed.`)}
                    >
                      Remove
                    </button>
                  )}
                </span>
              </li>
            );
          })}
        </ul>
        {canManage &&
          (adding ? (
            <UserPicker
              label="Add people"
              actionLabel="Add"
              exclude={c.members.map((m) => m.userId)}
              onPick={(user) => act(() => engine.addMembers(c.id, [user.id]), `${user.displayName} was added.`)}
            />
          ) : (
            <button
              type="button"
              class="button button--secondary"
              onClick={() => setAdding(true)}
              data-testid="add-members"
            >
              <Icon name="plus" /> Add people
            </button>
          ))}
        {isGroup && (
          <div class="danger-zone">
            {confirmLeave ? (
              <div role="alertdialog" aria-label="Leave this group?" class="confirm">
                <p>Leave “{c.title}”? You will no longer receive its messages.</p>
                <button
                  type="button"
                  class="button button--danger"
                  data-testid="confirm-leave"
                  onClick={() =>
                    void run(async () => {
                      await engine.leave(c.id);
                      navigate(paths.home, { replace: true });
                    })
                  }
                >
                  Leave group
                </button>
                <button type="button" class="button button--secondary" onClick={() => setConfirmLeave(false)}>
                  Cancel
                </button>
              </div>
            ) : (
              <button
                type="button"
                class="button button--danger-quiet"
                onClick={() => setConfirmLeave(true)}
                data-testid="leave-group"
              >
                Leave group
              </button>
            )}
          </div>
        )}
      </div>
    </section>
  );
}
