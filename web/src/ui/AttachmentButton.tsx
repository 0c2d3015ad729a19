import { useRef } from 'preact/hooks';
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE } from '../engine/transfers.ts';
import { formatBytes } from './format.ts';
import { Icon } from './Icon.tsx';

/** Checks files against the limits before anything is encrypted or uploaded; a message for people, or null. */
export function refuseFiles(files: readonly File[]): string | null {
  if (files.length > MAX_ATTACHMENTS_PER_MESSAGE) return `Send at most ${MAX_ATTACHMENTS_PER_MESSAGE} files at once.`;
  const big = files.find((f) => f.size > MAX_ATTACHMENT_BYTES);
  if (big) {
    return `${big.name} is ${formatBytes(big.size)}: files can be at most ${formatBytes(MAX_ATTACHMENT_BYTES)}.`;
  }
  return null;
}

/** The composer's paperclip: a file picker (several files at once). */
export function AttachmentButton(props: { onFiles: (files: File[]) => void; disabled?: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <input
        ref={input}
        type="file"
        multiple
        class="visually-hidden"
        tabIndex={-1}
        aria-hidden="true"
        data-testid="attach-input"
        onChange={(event) => {
          const files = [...(event.currentTarget.files ?? [])];
          event.currentTarget.value = '';
          if (files.length > 0) props.onFiles(files);
        }}
      />
      <button
        type="button"
        class="icon-button composer__attach"
        aria-label="Attach files"
        title="Attach files"
        data-testid="attach"
        disabled={props.disabled}
        onClick={() => input.current?.click()}
      >
        <Icon name="paperclip" />
      </button>
    </>
  );
}
