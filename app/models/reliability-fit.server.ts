import type { ShownVote } from "../../db/annotator-reliability";
import type { ReliabilityFitResult } from "../../db/schema";
import type { CrowdVote } from "../../quality/crowd-bt";
import { fitCrowdWithFlags } from "../../quality/duel-scales";

// The crowd fit as the reliability thread runs it (reliability-fit.worker.ts): no database access here, so the thread
// loads nothing of the app's connection.

/**
 * The fit reads at most this many decided votes, the latest: 10,000 votes on 200 prompts take about 400 sweeps,
 * 2.4 s at load average 14 on the shared 2-core machine (100,000 votes on 1,000 prompts did not converge in 400 sweeps,
 * 67 s), so larger studies see the fit of their latest votes. It runs on the reliability thread (ADR 0041).
 */
export const RELIABILITY_MAX_VOTES = 10_000;
export { RELIABILITY_FLAG_SHARE } from "../../quality/duel-scales";

/**
 * The crowd fit of ADR 0037 on a study's votes as shownVotes reads them (newest first, `truncated` when older ones were
 * left out): logit P(left wins) = beta_k (s_left - s_right) + gamma, the flags of flagAnnotators with the joint
 * standard errors, and the crowd scores of the prompts, as fitCrowdWithFlags computes them for the simulator too. Null without votes. Pure computation, O(CROWD_FIT_MAX_SWEEPS x
 * votes + prompts^3): run on the reliability thread only (reliability-fit.worker.ts), never on a request.
 */
export function fitShownVotes(rows: readonly ShownVote[], truncated: boolean): ReliabilityFitResult | null {
  if (rows.length === 0) return null;
  const promptIds: number[] = [];
  const promptIndex = new Map<number, number>();
  const annotatorIds: number[] = [];
  const annotatorIndex = new Map<number, number>();
  const indexOf = (map: Map<number, number>, id: number, list: number[]) => {
    let index = map.get(id);
    if (index === undefined) {
      index = map.size;
      map.set(id, index);
      list.push(id);
    }
    return index;
  };
  const votes: CrowdVote[] = rows.map((row) => ({
    a: indexOf(promptIndex, row.leftPromptId, promptIds),
    b: indexOf(promptIndex, row.rightPromptId, promptIds),
    outcome: row.leftOutcome,
    annotator: indexOf(annotatorIndex, row.annotatorId, annotatorIds),
  }));
  const { fit, flags } = fitCrowdWithFlags(promptIds.length, annotatorIds.length, votes);
  return {
    votes: votes.length,
    truncated,
    side: fit.side,
    sideStdErr: fit.sideStdErr,
    converged: fit.converged,
    annotators: flags.map((flag) => ({
      annotatorId: annotatorIds[flag.annotator]!,
      votes: flag.votes,
      reliability: flag.reliability,
      stdErr: fit.reliabilityStdErr[flag.annotator]!,
      upper: flag.upper,
      flagged: flag.flagged,
      reversed: flag.reversed,
    })),
    prompts: promptIds.map((promptId, arm) => ({ promptId, score: fit.scores[arm]! })),
  };
}
