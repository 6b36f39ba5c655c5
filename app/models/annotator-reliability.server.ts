import { shownVotes } from "../../db/annotator-reliability";
import { sigmoid } from "../../bandit/btl-loss";
import type { CrowdVote } from "../../quality/crowd-bt";
import { fitCrowdBradleyTerry, flagAnnotators } from "../../quality/crowd-bt";
import { db } from "~/db.server";

/** Sweeps of the page's fit (it stops earlier once converged): bounds its cost at O(MAX_SWEEPS x votes). */
export const RELIABILITY_MAX_SWEEPS = 400;
/**
 * The fit reads at most this many decided votes, the latest: 10,000 votes on 200 prompts take about 400 sweeps,
 * 2.4 s at load average 14 on the shared 2-core machine (100,000 votes on 1,000 prompts did not converge in 400 sweeps,
 * 67 s), so larger studies see the fit of their latest votes.
 */
export const RELIABILITY_MAX_VOTES = 10_000;
/** Below this share of the median reliability (at its 95 % upper bound) an annotator is flagged (quality/crowd-bt.ts). */
export const RELIABILITY_FLAG_SHARE = 0.25;

export interface AnnotatorReliabilityRow {
  annotatorId: number;
  votes: number;
  reliability: number;
  /** 95 % upper bound of the reliability. */
  upper: number;
  flagged: boolean;
  reversed: boolean;
}

export interface AnnotatorReliabilityReport {
  /** Decided votes fitted (skips left out): the latest RELIABILITY_MAX_VOTES at most. */
  votes: number;
  /** Whether older decided votes were left out (the study has more than RELIABILITY_MAX_VOTES). */
  truncated: boolean;
  /** The side term gamma: log-odds the left response gains at equal quality, and its standard error. */
  side: number;
  sideStdErr: number;
  /** sigmoid(gamma): how often the left response wins between two prompts of equal score. */
  leftShareAtEqualScores: number;
  converged: boolean;
  annotators: AnnotatorReliabilityRow[];
}

/**
 * Each annotator's fitted reliability and the crowd's side term (docs/decisions/0037): Bradley–Terry with
 * logit P(left wins) = beta_k (s_left - s_right) + gamma over every decided vote of the study, fitted jointly
 * (quality/crowd-bt.ts) over the latest `maxVotes` (RELIABILITY_MAX_VOTES) decided votes, and the flags of flagAnnotators. Null
 * without votes. Cost: one indexed read of those votes plus at most RELIABILITY_MAX_SWEEPS sweeps over them.
 */
export function annotatorReliability(studyId: number, maxVotes = RELIABILITY_MAX_VOTES): AnnotatorReliabilityReport | null {
  const rows = shownVotes(db(), studyId, maxVotes + 1);
  const truncated = rows.length > maxVotes;
  if (truncated) rows.length = maxVotes;
  if (rows.length === 0) return null;
  const promptIndex = new Map<number, number>();
  const annotatorIds: number[] = [];
  const annotatorIndex = new Map<number, number>();
  const indexOf = (map: Map<number, number>, id: number, list?: number[]) => {
    let index = map.get(id);
    if (index === undefined) {
      index = map.size;
      map.set(id, index);
      list?.push(id);
    }
    return index;
  };
  const votes: CrowdVote[] = rows.map((row) => ({
    a: indexOf(promptIndex, row.leftPromptId),
    b: indexOf(promptIndex, row.rightPromptId),
    outcome: row.leftOutcome,
    annotator: indexOf(annotatorIndex, row.annotatorId, annotatorIds),
  }));
  const fit = fitCrowdBradleyTerry(promptIndex.size, annotatorIds.length, votes, { maxSweeps: RELIABILITY_MAX_SWEEPS });
  const flags = flagAnnotators(fit, votes, RELIABILITY_FLAG_SHARE);
  return {
    votes: votes.length,
    truncated,
    side: fit.side,
    sideStdErr: fit.sideStdErr,
    leftShareAtEqualScores: sigmoid(fit.side),
    converged: fit.converged,
    annotators: flags.map((flag) => ({
      annotatorId: annotatorIds[flag.annotator]!,
      votes: flag.votes,
      reliability: flag.reliability,
      upper: flag.upper,
      flagged: flag.flagged,
      reversed: flag.reversed,
    })),
  };
}
