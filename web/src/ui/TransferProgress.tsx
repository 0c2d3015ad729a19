import type { TransferView } from '../engine/types.ts';
import { formatBytes } from './format.ts';
import { Icon } from './Icon.tsx';

/** A native progress bar (the CSP allows no inline styles) with what moved so far and a cancel button. */
export function TransferProgress(props: { transfer: TransferView; name: string; onCancel: () => void }) {
  const { transfer, name, onCancel } = props;
  const verb = transfer.direction === 'upload' ? 'Uploading' : 'Downloading';
  const known = transfer.total > 0;
  return (
    <div class="transfer" data-testid={`${transfer.direction}-progress`}>
      <progress
        class="transfer__bar"
        aria-label={`${verb} ${name}`}
        max={known ? transfer.total : undefined}
        value={known ? transfer.loaded : undefined}
        data-loaded={transfer.loaded}
        data-total={transfer.total}
      />
      <span class="transfer__text">
        {known
          ? `${formatBytes(transfer.loaded)} of ${formatBytes(transfer.total)}`
          : transfer.direction === 'upload'
            ? 'Encrypting…'
            : 'Starting…'}
      </span>
      <button
        type="button"
        class="icon-button icon-button--sm"
        aria-label={`Cancel ${transfer.direction}`}
        title="Cancel"
        data-testid={`cancel-${transfer.direction}`}
        onClick={onCancel}
      >
        <Icon name="x" />
      </button>
    </div>
  );
}
