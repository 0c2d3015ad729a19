import { useEffect, useRef } from 'preact/hooks';

export const quickReactions = ['👍', '❤️', '😂', '🎉', '😮', '😢'] as const;

/** A row of quick reactions; arrow keys move between them, Escape closes. */
export function ReactionPicker(props: { onPick: (emoji: string) => void; onClose: () => void }) {
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    root.current?.querySelector('button')?.focus();
  }, []);
  return (
    <div
      class="reaction-picker"
      role="toolbar"
      aria-label="Reactions"
      ref={root}
      onKeyDown={(event) => {
        const buttons = [...(root.current?.querySelectorAll('button') ?? [])];
        const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
        if (event.key === 'Escape') props.onClose();
        else if (event.key === 'ArrowRight') buttons[(at + 1) % buttons.length]?.focus();
        else if (event.key === 'ArrowLeft') buttons[(at - 1 + buttons.length) % buttons.length]?.focus();
        else return;
        event.preventDefault();
        event.stopPropagation();
      }}
    >
      {quickReactions.map((emoji) => (
        <button
          key={emoji}
          type="button"
          class="reaction-picker__option"
          aria-label={`React with ${emoji}`}
          onClick={() => props.onPick(emoji)}
        >
          {emoji}
        </button>
      ))}
    </div>
  );
}
