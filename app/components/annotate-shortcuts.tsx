import { forwardRef } from "react";
import type { VoteChoice } from "../../db/schema";

/** The vote buttons in bar order, with the key that presses each (ignored while typing a comment). */
export const VOTE_BUTTONS: readonly { value: VoteChoice; key: string; hotkey: string }[] = [
  { value: "left", key: "←", hotkey: "ArrowLeft" },
  { value: "tie", key: "T", hotkey: "t" },
  { value: "both_bad", key: "B", hotkey: "b" },
  { value: "skip", key: "S", hotkey: "s" },
  { value: "right", key: "→", hotkey: "ArrowRight" },
];

export const ANNOTATE_SHORTCUTS: readonly { keys: string; action: string }[] = [
  { keys: "←", action: "A is better" },
  { keys: "→", action: "B is better" },
  { keys: "T", action: "Tie" },
  { keys: "B", action: "Both bad" },
  { keys: "S", action: "Skip this pair" },
  { keys: "U", action: "Undo the vote just cast (for a few seconds)" },
  { keys: "?", action: "Show these shortcuts" },
  { keys: "Esc", action: "Close this window" },
];

/** The annotate page's keyboard help, a modal dialog opened with `?` (Esc closes it). */
export const AnnotateShortcutsDialog = forwardRef<HTMLDialogElement, { shortcuts: typeof ANNOTATE_SHORTCUTS }>(function AnnotateShortcutsDialog(
  { shortcuts },
  ref,
) {
  return (
    <dialog ref={ref} className="shortcuts" aria-labelledby="shortcuts-title">
      <h2 id="shortcuts-title">Keyboard shortcuts</h2>
      <p className="muted small">They do nothing while you type in the comment box.</p>
      <table className="data-table compact">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">Does</th>
          </tr>
        </thead>
        <tbody>
          {shortcuts.map((shortcut) => (
            <tr key={shortcut.keys}>
              <td>
                <kbd>{shortcut.keys}</kbd>
              </td>
              <td>{shortcut.action}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <form method="dialog">
        <button type="submit" className="primary">
          Close
        </button>
      </form>
    </dialog>
  );
});
