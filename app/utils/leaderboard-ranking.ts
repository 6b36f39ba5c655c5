// How the dashboard orders its leaderboard so that the rank never claims more than the votes show.

/** A prompt needs this many comparisons before its score can rank it among the measured ones or earn a P(best). */
export const MIN_COMPARISONS_TO_RANK = 10;

export interface RankableEntry {
  promptId: number;
  recommended: boolean;
  comparisons: number;
  score: number | null;
}

/**
 * The recommended prompt first, if it has been measured; then prompts with at least
 * MIN_COMPARISONS_TO_RANK comparisons by score; then the under-measured ones (by comparisons, most
 * first), whose score is mostly luck: a prompt that won its 3 comparisons is never ranked above one
 * measured over 40, even when the engine recommends it (its vote guard may back an unbeaten prompt on
 * a few wins; the page marks it recommended where the evidence puts it). Ties by prompt id.
 */
export function rankLeaderboard<T extends RankableEntry>(entries: readonly T[]): { entry: T; measured: boolean }[] {
  const measured = (entry: T) => entry.comparisons >= MIN_COMPARISONS_TO_RANK;
  const leads = (entry: T) => entry.recommended && measured(entry);
  return [...entries]
    .sort(
      (x, y) =>
        Number(leads(y)) - Number(leads(x)) ||
        Number(measured(y)) - Number(measured(x)) ||
        (measured(x) ? (y.score ?? -Infinity) - (x.score ?? -Infinity) : y.comparisons - x.comparisons) ||
        x.promptId - y.promptId,
    )
    .map((entry) => ({ entry, measured: measured(entry) }));
}
