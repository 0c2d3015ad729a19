import { useEffect, useState } from 'preact/hooks';
import { transferKey } from '../engine/transfers.ts';
import type { AttachmentView, MessageView } from '../engine/types.ts';
import { useEngine } from './engine-context.ts';
import { errorMessage, formatBytes } from './format.ts';
import { Icon } from './Icon.tsx';
import { TransferProgress } from './TransferProgress.tsx';
import '../styles/attachments.css';

/**
 * One file of a message. Thumbnails download by themselves; the file itself on a click: images open full size,
 * videos play, anything else is saved (`<a download>`). A file that fails its integrity check shows an error,
 * never content.
 */
export function AttachmentItem(props: { message: MessageView; attachment: AttachmentView }) {
  const { message, attachment: a } = props;
  const engine = useEngine();
  const transfers = engine.transfers.value;
  const transfer = transfers[transferKey(message, a.index)];
  const thumbUrl = transfers[transferKey(message, a.index, true)]?.url ?? null;
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (a.hasThumbnail && !a.uploading) void engine.thumbnail(message, a.index).catch(() => undefined);
  }, [engine, message.conversationId, message.contentId, a.index, a.hasThumbnail, a.uploading]);

  async function fetchFile() {
    setError(null);
    try {
      const url = await engine.download(message, a.index);
      if (a.display === 'file') save(url, a.name);
      else setOpen(true);
    } catch (caught) {
      if ((caught as { code?: string }).code !== 'cancelled') setError(errorMessage(caught));
    }
  }

  const fileUrl = transfer?.state === 'done' ? transfer.url : null;
  const active = transfer?.state === 'active';
  const failed = transfer?.state === 'failed' ? transfer.error : error;
  const label = `${a.name}, ${formatBytes(a.size)}`;
  return (
    <div class="attachment" data-testid="attachment" data-display={a.display} data-uploading={a.uploading}>
      {open && fileUrl && a.display === 'image' && (
        <a href={fileUrl} target="_blank" rel="noopener" class="attachment__full">
          <img src={fileUrl} alt={a.name} data-testid="attachment-image" />
        </a>
      )}
      {open && fileUrl && a.display === 'video' && (
        // biome-ignore lint/a11y/useMediaCaption: a user's own video has no captions to offer
        <video src={fileUrl} controls class="attachment__full" data-testid="attachment-video" />
      )}
      {!open && thumbUrl && (
        <button
          type="button"
          class="attachment__thumb"
          aria-label={`Open ${label}`}
          disabled={a.uploading}
          onClick={() => void fetchFile()}
        >
          <img src={thumbUrl} alt="" data-testid="attachment-thumbnail" />
        </button>
      )}
      <div class="attachment__row">
        <Icon name="file" />
        <span class="attachment__name" data-testid="attachment-name" title={a.name}>
          {a.name}
        </span>
        <span class="attachment__size" data-testid="attachment-size">
          {formatBytes(a.size)}
        </span>
        {a.display === 'file' && fileUrl && !a.uploading && (
          <a class="link-button attachment__action" href={fileUrl} download={a.name} data-testid="attachment-save">
            Save
          </a>
        )}
        {!a.uploading && !active && !(a.display === 'file' && fileUrl) && (
          <button
            type="button"
            class="icon-button icon-button--sm attachment__action"
            aria-label={a.display === 'file' ? `Download ${label}` : `Open ${label}`}
            title={a.display === 'file' ? 'Download' : 'Open'}
            data-testid="attachment-download"
            onClick={() => void fetchFile()}
          >
            <Icon name="download" />
          </button>
        )}
      </div>
      {active && transfer && (
        <TransferProgress
          transfer={transfer}
          name={a.name}
          onCancel={() =>
            transfer.direction === 'upload'
              ? void engine.cancelUpload(message).catch((caught) => setError(errorMessage(caught)))
              : engine.cancelDownload(message, a.index)
          }
        />
      )}
      {failed && (
        <p class="attachment__error" role="alert" data-testid="attachment-error">
          <Icon name="alert" /> {failed}
          {a.uploading && message.state === 'failed' && (
            <button
              type="button"
              class="link-button"
              data-testid="attachment-retry"
              onClick={() => void engine.retry(message).catch((caught) => setError(errorMessage(caught)))}
            >
              Try again
            </button>
          )}
          {a.uploading && (
            <button type="button" class="link-button" onClick={() => void engine.cancelUpload(message)}>
              Remove
            </button>
          )}
        </p>
      )}
    </div>
  );
}

/** Saves an object URL under the file's name (the browser's download, not a page of our origin). */
function save(url: string, name: string): void {
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
}
