import { diffWordsWithSpace } from "diff";

// The side-by-side word diff of two responses (issue 15 §6), computed on the server with the `diff`
// package (Myers' O(ND) algorithm). Words, punctuation, runs of spaces and line breaks are tokens, so
// the texts keep their line breaks when shown with white-space: pre-wrap.

export interface DiffSegment {
  text: string;
  /** same: in both; removed: only in the left text; added: only in the right one. */
  kind: "same" | "removed" | "added";
}

/**
 * Most edits the diff looks for: beyond it two texts are "too different to align" (diff gives up and
 * both are shown as they are). A bound in edits, not in time, so the result never depends on the
 * machine's speed; the cost is O((N + M) · MAX_EDITS) tokens at worst.
 */
export const MAX_EDITS = 3_000;

/** The left column (common and removed segments) and the right one (common and added), or null when too different. */
export function sideBySideDiff(
  left: string,
  right: string,
): { left: DiffSegment[]; right: DiffSegment[]; removedWords: number; addedWords: number } | null {
  const changes = diffWordsWithSpace(left, right, { maxEditLength: MAX_EDITS });
  if (!changes) return null;
  const leftSegments: DiffSegment[] = [];
  const rightSegments: DiffSegment[] = [];
  let removedWords = 0;
  let addedWords = 0;
  for (const change of changes) {
    if (change.added) {
      rightSegments.push({ text: change.value, kind: "added" });
      addedWords += wordCount(change.value);
    } else if (change.removed) {
      leftSegments.push({ text: change.value, kind: "removed" });
      removedWords += wordCount(change.value);
    } else {
      leftSegments.push({ text: change.value, kind: "same" });
      rightSegments.push({ text: change.value, kind: "same" });
    }
  }
  return { left: leftSegments, right: rightSegments, removedWords, addedWords };
}

/** Words (and punctuation marks) in a changed segment, not its spaces. */
function wordCount(text: string): number {
  return text.match(/[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu)?.length ?? 0;
}
