import type { Outcome } from "../../bandit/policy";
import type { VoteChoice } from "../../db/schema";

export interface ShownPair {
  promptAId: number;
  promptBId: number;
  /** Whether prompt A's response was the one shown on the left (assignments.left_is_a). */
  leftIsA: boolean;
  choice: VoteChoice;
}

/**
 * A vote as a duel between the prompt shown on the left and the one shown on the right: outcome 1
 * when the left one was preferred, 0 for the right one, 0.5 for a tie or "both bad"; null for a skip,
 * which carries no preference. The one mapping the engine, the leaderboard pages and replay share.
 */
export function voteDuel(vote: ShownPair): { left: number; right: number; outcome: Outcome } | null {
  if (vote.choice === "skip") return null;
  const left = vote.leftIsA ? vote.promptAId : vote.promptBId;
  const right = vote.leftIsA ? vote.promptBId : vote.promptAId;
  const outcome = vote.choice === "left" ? 1 : vote.choice === "right" ? 0 : 0.5;
  return { left, right, outcome };
}
