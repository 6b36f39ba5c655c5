/**
 * From a crowd fit to how the engine reads each vote: the logit scale of each annotator's votes (docs/decisions/0044,
 * amended by 0047) and the side term (0048) in the engine's likelihood. One implementation for the app (the cached fit
 * of the reliability thread, ADR 0041) and the simulator (bandit/simulate.ts, which fits after every vote).
 * Pure: no I/O, no randomness.
 */
import { median } from "simple-statistics";
import type { CrowdFit, CrowdVote, ReliabilityFlag } from "./crowd-bt";
import { fitCrowdBradleyTerry, flagAnnotators, jointStandardErrors } from "./crowd-bt";

/** Sweeps of the crowd fit (it stops earlier once converged): the reliability thread's bound, O(sweeps x votes). */
export const CROWD_FIT_MAX_SWEEPS = 400;

/** Below this share of the median reliability (at its 95 % upper bound) an annotator is flagged (flagAnnotators). */
export const RELIABILITY_FLAG_SHARE = 0.25;

/** The largest |scale|: a vote never counts more than a typical annotator's. */
export const DUEL_SCALE_LIMIT = 1;

/**
 * The crowd fit the app stores and the simulator serves (ADR 0047): fitCrowdBradleyTerry with CROWD_FIT_MAX_SWEEPS
 * sweeps, then the flags of flagAnnotators (RELIABILITY_FLAG_SHARE) on the joint standard errors.
 * The posterior is symmetric under (s, beta) -> (-s, -beta) but for the N(1, 1) prior on beta, so block ascent from
 * beta = 1 can settle in the mirrored mode (the crowd's majority "reversed", the adversaries "reliable") when the
 * adversaries pull hard early. Whenever the first fit has a negative beta, a second fit starts from the mirrored
 * reliabilities -beta and the fit with the higher log posterior is kept; the mirrored mode pays the prior's penalty on
 * every reversed beta, so the kept fit is the one in which most of the crowd agrees with the scores.
 * Cost: one or two fits, O(CROWD_FIT_MAX_SWEEPS x (V + n + K)) each, plus O(n^3 / 3 + n^2 K + K^3) for the standard
 * errors. Throws on invalid votes.
 */
export function fitCrowdWithFlags(
  armCount: number,
  annotatorCount: number,
  votes: readonly CrowdVote[],
): { fit: CrowdFit; flags: ReliabilityFlag[] } {
  const options = { maxSweeps: CROWD_FIT_MAX_SWEEPS, standardErrors: "conditional" } as const;
  let fit = fitCrowdBradleyTerry(armCount, annotatorCount, votes, options);
  if (fit.reliability.some((beta) => beta < 0)) {
    const mirrored = fitCrowdBradleyTerry(armCount, annotatorCount, votes, { ...options, reliability: fit.reliability.map((beta) => -beta) });
    if (mirrored.logPosterior > fit.logPosterior) fit = mirrored;
  }
  const joint = jointStandardErrors(fit, votes);
  fit = { ...fit, reliabilityStdErr: joint.reliabilityStdErr, sideStdErr: joint.sideStdErr };
  return { fit, flags: flagAnnotators(fit, votes, RELIABILITY_FLAG_SHARE) };
}

/** What duelScales reads of each annotator's fit (a ReliabilityFlag, or a stored fit's row). */
export interface ScaledAnnotator {
  reliability: number;
  votes: number;
  flagged: boolean;
}

/**
 * Each annotator's scale from their fitted reliability beta_k (quality/crowd-bt.ts: logit P(left wins) =
 * beta_k (s_a - s_b) + gamma) and their flag:
 *   c_k = 1                                                      unless k is flagged,
 *   c_k = clamp(beta_k / m, -DUEL_SCALE_LIMIT, DUEL_SCALE_LIMIT)  when flagged,  m = median{beta_j : votes_j > 0, beta_j > 0},
 * so the engine's P(a beats b) = sigmoid(c_k (u_a - u_b)) weighs a flagged careless annotator's vote less (c near 0
 * for a random clicker) and counts a flagged adversary's reversed (c < 0), without throwing either out. Gated by the
 * flag (ADR 0047) because an unflagged annotator's beta is within noise of the crowd's: scaling them too cost the good
 * crowds regret in the simulator and bought nothing. Relative to the median because the prior on the scores sets the
 * scale of beta (as flagAnnotators' bar); clamped at 1 so no vote counts more than a typical annotator's. A flagged
 * annotator gets 1 when no annotator has a positive reliability (no reference to measure against).
 * Cost: O(K log K).
 */
export function duelScales(annotators: readonly ScaledAnnotator[]): Float64Array {
  const positive = annotators.filter(({ votes, reliability }) => votes > 0 && reliability > 0).map(({ reliability }) => reliability);
  const scales = new Float64Array(annotators.length).fill(1);
  if (positive.length === 0) return scales;
  const typical = median(positive);
  annotators.forEach(({ reliability, votes, flagged }, k) => {
    if (flagged && votes > 0) scales[k] = Math.min(DUEL_SCALE_LIMIT, Math.max(-DUEL_SCALE_LIMIT, reliability / typical));
  });
  return scales;
}

/** The side term enters the engine only when its interval at this z excludes 0 (about 95 %). */
export const SIDE_TERM_Z = 1.96;

/**
 * The engine's side term from the crowd fit's gamma (logit P(left wins) = beta_k (s_l - s_r) + gamma) and its
 * standard error: gamma when |gamma| > SIDE_TERM_Z x se, else 0, so that a crowd without a lean is read as before, bit
 * for bit, and only evidence of one moves the engine (ADR 0048, the same rule as the flag's gate, ADR 0047). The
 * engine's duels carry the scale c_k but not beta_k, and gamma is a shift of the log-odds itself, so it enters as it is:
 * P(a beats b) = sigmoid(c_k (u_a - u_b) + s gamma), s = +1 with a shown left, -1 shown right.
 * 0 when either figure is not finite. Cost: O(1).
 */
export function servedSideTerm(side: number, sideStdErr: number): number {
  if (!Number.isFinite(side) || !Number.isFinite(sideStdErr)) return 0;
  return Math.abs(side) > SIDE_TERM_Z * sideStdErr ? side : 0;
}

/**
 * fitCrowdWithFlags on `votes` as the app stores them (left response first), mapped to each member's scale by
 * duelScales and to the side term by servedSideTerm: what the simulator does where the app reads the cached fit.
 * Cost: fitCrowdWithFlags'. Throws on invalid votes.
 */
export function fitVoteModel(armCount: number, annotatorCount: number, votes: readonly CrowdVote[]): { scales: Float64Array; sideTerm: number } {
  const { fit, flags } = fitCrowdWithFlags(armCount, annotatorCount, votes);
  return { scales: duelScales(flags), sideTerm: servedSideTerm(fit.side, fit.sideStdErr) };
}
