import { useEffect, useRef } from 'preact/hooks';

export const shortcuts: readonly [keys: string, what: string][] = [
  ['/', 'Search messages'],
  ['Alt + ↑ / Alt + ↓', 'Previous / next conversation'],
  ['Alt + N', 'New chat'],
  ['Enter', 'Send the message'],
  ['Shift + Enter', 'New line in the message'],
  ['↑ (in an empty message box)', 'Edit your last message'],
  ['Escape', 'Cancel a reply or an edit; close menus and dialogs'],
  ['?', 'Show these shortcuts'],
];

/** The keyboard shortcuts, in a modal <dialog> (focus trapped and restored by the browser). */
export function ShortcutsDialog(props: { open: boolean; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (props.open && !element.open) element.showModal();
    if (!props.open && element.open) element.close();
  }, [props.open]);
  return (
    <dialog ref={dialog} class="dialog" aria-labelledby="shortcuts-title" onClose={props.onClose}>
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <table class="shortcuts">
        <tbody>
          {shortcuts.map(([keys, what]) => (
            <tr key={keys}>
              <th scope="row">
                <kbd>{keys}</kbd>
              </th>
              <td>{what}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button class="button button--primary" type="submit">
          Close
        </button>
      </form>
    </dialog>
  );
}
