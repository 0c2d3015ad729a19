import { useState } from 'preact/hooks';
import type { MemberView, MessageView } from '../engine/types.ts';
import { composerMode, requestComposerFocus } from '../store/composer.ts';
import { AttachmentItem } from './AttachmentItem.tsx';
import { Avatar } from './Avatar.tsx';
import { CallEventItem } from './CallEventItem.tsx';
import { useEngine } from './engine-context.ts';
import { formatFull, formatTime } from './format.ts';
import { Icon } from './Icon.tsx';
import { MessageStatus } from './MessageStatus.tsx';
import { ReactionPicker } from './ReactionPicker.tsx';

/**
 * One message: sender and time (at the start of a run), the reply it answers, the text (or why it cannot be
 * read), edited/deleted markers, reactions, ticks for one's own; actions on hover and keyboard focus.
 */
export function MessageItem(props: { message: MessageView; showSender: boolean; members: readonly MemberView[] }) {
  const { message: m, showSender, members } = props;
  const engine = useEngine();
  const [picking, setPicking] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const nameOf = (userId: string) => members.find((member) => member.userId === userId)?.displayName ?? 'Someone';
  const canAct = !m.deleted && m.seq !== null && !m.decryptError;
  if (m.call) return <CallEventItem message={m} />;
  return (
    <li
      class={`message${m.mine ? ' message--mine' : ''}${showSender ? ' message--first' : ''}`}
      data-testid="message"
      data-state={m.state}
      data-seq={m.seq ?? undefined}
      data-mine={m.mine}
    >
      {showSender && !m.mine ? (
        <Avatar id={m.senderId} name={m.senderName} size="sm" />
      ) : (
        <span class="message__gutter" />
      )}
      <div class="message__content">
        {showSender && (
          <p class="message__meta">
            <span class="message__sender">{m.mine ? 'You' : m.senderName}</span>
            <time dateTime={m.at} title={formatFull(m.at)}>
              {formatTime(m.at)}
            </time>
          </p>
        )}
        <div class="message__bubble">
          {m.replyTo && (
            <blockquote class="message__quote" data-testid="reply-quote">
              <span class="message__quote-sender">{m.replyTo.senderName}</span>
              <span class="message__quote-text">{m.replyTo.text || 'Original message unavailable'}</span>
            </blockquote>
          )}
          {m.deleted ? (
            <p class="message__text message__text--deleted" data-testid="message-deleted">
              This message was deleted.
            </p>
          ) : m.decryptError ? (
            <div class="message__error" role="note" data-testid="decrypt-error">
              <Icon name="alert" />
              <p>
                <strong>This message could not be decrypted.</strong> {m.decryptError.reason}
                {m.decryptError.recovering && ' Asking the sender’s device to send it again…'}
              </p>
            </div>
          ) : (
            <>
              {m.attachments.length > 0 && (
                <div class="attachments">
                  {m.attachments.map((a) => (
                    <AttachmentItem key={a.index} message={m} attachment={a} />
                  ))}
                </div>
              )}
              {(m.text || m.attachments.length === 0) && (
                <p class="message__text" data-testid="message-text">
                  {m.text}
                </p>
              )}
            </>
          )}
          <span class="message__footer">
            {m.edited && !m.deleted && <span class="message__edited">edited</span>}
            {!showSender && (
              <time class="message__time" dateTime={m.at} title={formatFull(m.at)}>
                {formatTime(m.at)}
              </time>
            )}
            {m.mine && <MessageStatus state={m.state} />}
          </span>
        </div>
        {m.state === 'failed' && !m.attachments.some((a) => a.uploading) && (
          <p class="message__failed">
            Not sent.{' '}
            <button type="button" class="link-button" onClick={() => void engine.retry(m)}>
              Try again
            </button>
          </p>
        )}
        {m.reactions.length > 0 && (
          <ul class="reactions" aria-label="Reactions">
            {m.reactions.map((r) => (
              <li key={r.emoji}>
                <button
                  type="button"
                  class={`reaction${r.mine ? ' reaction--mine' : ''}`}
                  aria-pressed={r.mine}
                  aria-label={`${r.emoji} ${r.userIds.length}: ${r.userIds.map(nameOf).join(', ')}`}
                  title={r.userIds.map(nameOf).join(', ')}
                  data-testid="reaction"
                  onClick={() => void engine.react(m, r.emoji)}
                >
                  {r.emoji} <span class="reaction__count">{r.userIds.length}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {canAct && (
          <div class="message__actions">
            <button
              type="button"
              class="icon-button icon-button--sm"
              aria-label="Reply"
              title="Reply"
              data-testid="action-reply"
              onClick={() => {
                composerMode(m.conversationId).value = { kind: 'reply', message: m };
                requestComposerFocus();
              }}
            >
              <Icon name="reply" />
            </button>
            <button
              type="button"
              class="icon-button icon-button--sm"
              aria-label="React"
              title="React"
              aria-expanded={picking}
              data-testid="action-react"
              onClick={() => setPicking(!picking)}
            >
              <Icon name="smile" />
            </button>
            {m.mine && (
              <>
                <button
                  type="button"
                  class="icon-button icon-button--sm"
                  aria-label="Edit"
                  title="Edit"
                  data-testid="action-edit"
                  onClick={() => {
                    composerMode(m.conversationId).value = { kind: 'edit', message: m };
                    requestComposerFocus();
                  }}
                >
                  <Icon name="edit" />
                </button>
                <button
                  type="button"
                  class="icon-button icon-button--sm"
                  aria-label="Delete for everyone"
                  title="Delete for everyone"
                  data-testid="action-delete"
                  onClick={() => setConfirmDelete(true)}
                >
                  <Icon name="trash" />
                </button>
              </>
            )}
          </div>
        )}
        {picking && (
          <ReactionPicker
            onClose={() => setPicking(false)}
            onPick={(emoji) => {
              setPicking(false);
              void engine.react(m, emoji);
            }}
          />
        )}
        {confirmDelete && (
          <div class="message__confirm" role="alertdialog" aria-label="Delete this message for everyone?">
            <p>Delete this message for everyone?</p>
            <button
              type="button"
              class="button button--danger button--sm"
              data-testid="confirm-delete"
              onClick={() => {
                setConfirmDelete(false);
                void engine.deleteForEveryone(m);
              }}
            >
              Delete
            </button>
            <button type="button" class="button button--secondary button--sm" onClick={() => setConfirmDelete(false)}>
              Cancel
            </button>
          </div>
        )}
      </div>
    </li>
  );
}
