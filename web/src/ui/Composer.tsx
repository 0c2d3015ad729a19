import { useEffect, useRef, useState } from 'preact/hooks';
import type { ConversationView, MessageView } from '../engine/types.ts';
import { composerFocus, composerMode } from '../store/composer.ts';
import { AttachmentButton, refuseFiles } from './AttachmentButton.tsx';
import { useEngine } from './engine-context.ts';
import { errorMessage } from './format.ts';
import { Icon } from './Icon.tsx';

/**
 * Writing: Enter sends, Shift+Enter starts a new line, Escape cancels a reply or an edit, ↑ in an empty box edits
 * one's last message. Typing notices go out while the user types and stop on send or blur.
 */
export function Composer(props: { conversation: ConversationView }) {
  const { conversation } = props;
  const engine = useEngine();
  const modeSignal = composerMode(conversation.id);
  const mode = modeSignal.value;
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  const focusRequest = composerFocus.value;

  useEffect(() => {
    if (mode.kind === 'edit') setText(mode.message.text);
  }, [mode]);
  useEffect(() => {
    box.current?.focus();
  }, [focusRequest, conversation.id]);
  useEffect(() => () => engine.setTyping(conversation.id, false), [engine, conversation.id]);

  const resize = () => {
    const element = box.current;
    if (!element) return;
    element.style.height = 'auto';
    element.style.height = `${Math.min(element.scrollHeight, 200)}px`;
  };
  useEffect(resize, [text]);

  async function submit() {
    const body = text.trim();
    if (!body) return;
    setError(null);
    engine.setTyping(conversation.id, false);
    const current = mode;
    setText('');
    modeSignal.value = { kind: 'new' };
    try {
      if (current.kind === 'edit') await engine.edit(current.message, body);
      else await engine.send(conversation.id, body, current.kind === 'reply' ? { replyTo: current.message } : {});
    } catch (caught) {
      setText(body);
      setError(errorMessage(caught));
    }
  }

  /** Files go at once, with what is typed as their caption (not while editing). */
  function sendFiles(files: File[]) {
    const refused = refuseFiles(files);
    setError(refused);
    if (refused || mode.kind === 'edit') return;
    const caption = text.trim();
    setText('');
    engine.sendFiles(conversation.id, files, caption).catch((caught) => {
      setText(caption);
      setError(errorMessage(caught));
    });
  }

  function editLast() {
    const items = engine.timeline(conversation.id).value.items;
    const last = [...items]
      .reverse()
      .find((item): item is MessageView => item.kind === 'message' && item.mine && !item.deleted && item.seq !== null);
    if (last) modeSignal.value = { kind: 'edit', message: last };
  }

  const label = `Message ${conversation.title}`;
  return (
    <form
      class="composer"
      data-testid="composer"
      onDragOver={(event) => {
        if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
      }}
      onDrop={(event) => {
        const files = [...(event.dataTransfer?.files ?? [])];
        if (files.length === 0) return;
        event.preventDefault();
        sendFiles(files);
      }}
      onSubmit={(event) => {
        event.preventDefault();
        void submit();
      }}
    >
      {mode.kind !== 'new' && (
        <div class="composer__context" data-testid="composer-context">
          <Icon name={mode.kind === 'reply' ? 'reply' : 'edit'} />
          <p>
            <strong>{mode.kind === 'reply' ? `Replying to ${mode.message.senderName}` : 'Editing your message'}</strong>
            <span class="composer__context-text">{mode.message.text}</span>
          </p>
          <button
            type="button"
            class="icon-button icon-button--sm"
            aria-label={mode.kind === 'reply' ? 'Cancel reply' : 'Cancel edit'}
            onClick={() => {
              modeSignal.value = { kind: 'new' };
              if (mode.kind === 'edit') setText('');
              box.current?.focus();
            }}
          >
            <Icon name="x" />
          </button>
        </div>
      )}
      {error && (
        <p class="alert alert--error composer__error" role="alert">
          {error}
        </p>
      )}
      <div class="composer__row">
        <AttachmentButton onFiles={sendFiles} disabled={mode.kind === 'edit'} />
        <label for="composer-input" class="visually-hidden">
          {label}
        </label>
        <textarea
          id="composer-input"
          ref={box}
          class="composer__input"
          rows={1}
          placeholder={`${label}…`}
          value={text}
          data-testid="composer-input"
          onInput={(event) => {
            setText(event.currentTarget.value);
            engine.setTyping(conversation.id, event.currentTarget.value.length > 0);
          }}
          onBlur={() => engine.setTyping(conversation.id, false)}
          onPaste={(event) => {
            const files = [...(event.clipboardData?.files ?? [])];
            if (files.length === 0) return;
            event.preventDefault();
            sendFiles(files);
          }}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
              event.preventDefault();
              void submit();
            } else if (event.key === 'Escape' && mode.kind !== 'new') {
              event.preventDefault();
              modeSignal.value = { kind: 'new' };
              if (mode.kind === 'edit') setText('');
            } else if (event.key === 'ArrowUp' && text === '') {
              event.preventDefault();
              editLast();
            }
          }}
        />
        <button type="submit" class="button button--primary composer__send" aria-label="Send" data-testid="send">
          <Icon name="send" />
        </button>
      </div>
    </form>
  );
}
