// The pure rules of automatic rounds (issue 17 §3, ADR 0033): when a threshold of decisive votes is crossed, whether
// the leader has been stable, and how many prompts a round may ask for within its budgets. No I/O: the caller
// (app/llm/auto-rounds.server.ts) reads the facts and writes what these decide.

import { MIN_COMPARISONS_TO_RANK } from "./leaderboard-ranking";

/** The requester's label on growth rounds an automatic round queued, and the actor of its audit rows. */
export const AUTO_ROUNDS_ACTOR = "automatic rounds";

/**
 * The threshold of decisive votes a study has crossed: the largest multiple of `every` at most `decisive`
 * (T = floor(decisive / every) * every), 0 before the first. A round is due when T > 0 and T is above the
 * threshold of the study's last automatic round; the (study, T) pair is unique in SQLite, so each crossing queues
 * at most one round. O(1).
 */
export function crossedThreshold(decisive: number, every: number): number {
  if (!(every > 0) || decisive < every) return 0;
  return Math.floor(decisive / every) * every;
}

export interface SeriesPoint {
  voteCount: number;
  recommendedPromptId: number | null;
}

/**
 * Since when the current leader leads: `series` is the snapshot series newest first; the leader is the newest
 * row's recommended prompt, and `sinceVotes` the vote count of the oldest row of the unbroken run of rows that
 * recommend it (the series keeps every change of leader when it is thinned: snapshot-writer.server.ts). Null
 * without a leader. O(rows).
 */
export function leaderRun(series: readonly SeriesPoint[]): { leaderPromptId: number; sinceVotes: number } | null {
  const leader = series[0]?.recommendedPromptId ?? null;
  if (leader === null) return null;
  let sinceVotes = series[0]!.voteCount;
  for (const point of series) {
    if (point.recommendedPromptId !== leader) break;
    sinceVotes = point.voteCount;
  }
  return { leaderPromptId: leader, sinceVotes };
}

/**
 * The leader is stable when it has been the engine's recommendation over at least `stableVotes` votes
 * (voteCount - sinceVotes >= stableVotes) and has the leaderboard's minimum of comparisons to be ranked
 * (MIN_COMPARISONS_TO_RANK, rankLeaderboard): growing from a leader that a few lucky votes put first would mutate noise.
 */
export function leaderIsStable(
  run: { sinceVotes: number } | null,
  voteCount: number,
  leaderComparisons: number | null,
  stableVotes: number,
): boolean {
  return run !== null && voteCount - run.sinceVotes >= stableVotes && (leaderComparisons ?? 0) >= MIN_COMPARISONS_TO_RANK;
}

export interface RoundBudgets {
  maxRounds: number;
  maxPrompts: number | null;
  maxCostUsd: number | null;
}

export interface RoundsSoFar {
  rounds: number;
  prompts: number;
  costUsd: number;
}

/** The budget already spent, as a reason to stop, or null while every budget has room. O(1). */
export function exhaustedBudget(budgets: RoundBudgets, spent: RoundsSoFar): string | null {
  if (spent.rounds >= budgets.maxRounds) return `its budget of ${budgets.maxRounds} ${budgets.maxRounds === 1 ? "round" : "rounds"} is spent`;
  if (budgets.maxPrompts !== null && spent.prompts >= budgets.maxPrompts) return `its budget of ${budgets.maxPrompts} prompts is spent`;
  if (budgets.maxCostUsd !== null && spent.costUsd >= budgets.maxCostUsd) return `its budget of $${budgets.maxCostUsd.toFixed(2)} is spent`;
  return null;
}

/**
 * The largest K' <= K for which `fits(K')` holds, trying K, K-1, ... 1; 0 when none does. `fits` says whether a round
 * of K' prompts stays under the confirmation threshold and within the cost budget (both grow with K'). O(K) calls.
 */
export function largestFitting(count: number, fits: (count: number) => boolean): number {
  for (let k = count; k >= 1; k--) if (fits(k)) return k;
  return 0;
}
