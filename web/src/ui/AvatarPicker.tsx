import { useRef } from 'preact/hooks';
import { Avatar } from './Avatar.tsx';
import { useEngine } from './engine-context.ts';
import { useAction } from './use-action.ts';
import '../styles/attachments.css';

const IMAGE_TYPES = 'image/jpeg,image/png,image/webp,image/gif';

/**
 * Change or remove a picture (one's own, or a group's): the image is scaled down, encrypted and sent to the
 * conversations by the engine; the server never sees it.
 */
export function AvatarPicker(props: {
  id: string;
  name: string;
  label: string;
  onPick: (file: File | null) => Promise<void>;
}) {
  const { id, name, label, onPick } = props;
  const engine = useEngine();
  const input = useRef<HTMLInputElement>(null);
  const { busy, error, run } = useAction();
  const has = engine.avatars.value[id] !== undefined;
  return (
    <div class="avatar-picker" data-testid="avatar-picker">
      <Avatar id={id} name={name} size="lg" />
      <input
        ref={input}
        type="file"
        accept={IMAGE_TYPES}
        class="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        data-testid="avatar-input"
        onChange={(event) => {
          const file = event.currentTarget.files?.[0];
          event.currentTarget.value = '';
          if (file) void run(() => onPick(file));
        }}
      />
      <button type="button" class="button button--secondary" disabled={busy} onClick={() => input.current?.click()}>
        {has ? `Change ${label}` : `Add ${label}`}
      </button>
      {has && (
        <button
          type="button"
          class="button button--secondary"
          disabled={busy}
          data-testid="avatar-remove"
          onClick={() => void run(() => onPick(null))}
        >
          Remove
        </button>
      )}
      {error && (
        <p class="alert alert--error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
