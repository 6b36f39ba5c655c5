/**
 * From a crowd fit to the logit scale of each annotator's votes in the engine's likelihood (docs/decisions/0044): one
 * implementation for the app (the cached fit of the reliability thread, ADR 0041) and the simulator (bandit/simulate.ts,
 * which fits after every vote). Pure: no I/O, no randomness.
 */
import { median } from "simple-statistics";
import type { CrowdVote } from "./crowd-bt";
import { fitCrowdBradleyTerry } from "./crowd-bt";

/** Sweeps of the crowd fit (it stops earlier once converged): the reliability thread's bound, O(sweeps x votes). */
export const CROWD_FIT_MAX_SWEEPS = 400;

/** The largest |scale|: a vote never counts more than a typical annotator's. */
export const DUEL_SCALE_LIMIT = 1;

/**
 * Each annotator's scale from their fitted reliability beta_k (quality/crowd-bt.ts: logit P(left wins) =
 * beta_k (s_a - s_b) + gamma):
 *   c_k = clamp(beta_k / m, -DUEL_SCALE_LIMIT, DUEL_SCALE_LIMIT),   m = median{beta_j : votes_j > 0, beta_j > 0},
 * so the engine's P(a beats b) = sigmoid(c_k (u_a - u_b)) weighs a careless annotator's vote less (c near 0 for a
 * random clicker) and counts an adversary's reversed (c < 0), without throwing either out. Relative to the median
 * because the prior on the scores sets the scale of beta (as flagAnnotators' bar); clamped at 1 so the annotators
 * above the median count as a typical one, not more (the engine's utilities are on the crowd's scale). A crowd of equal
 * fits gets 1 exactly (x / x), and so does a single annotator, so the engine is then the one without scales. An
 * annotator without votes gets 1 (nothing known), and so does everyone when no annotator has a positive reliability
 * (no reference to measure against). Cost: O(K log K). Throws when the lengths differ.
 */
export function duelScales(reliability: ArrayLike<number>, votes: ArrayLike<number>): Float64Array {
  const count = reliability.length;
  if (votes.length !== count) throw new Error(`duelScales requires one vote count per annotator (${count}), got ${votes.length}`);
  const positive: number[] = [];
  for (let k = 0; k < count; k++) if (votes[k]! > 0 && reliability[k]! > 0) positive.push(reliability[k]!);
  const scales = new Float64Array(count).fill(1);
  if (positive.length === 0) return scales;
  const typical = median(positive);
  for (let k = 0; k < count; k++) {
    if (!(votes[k]! > 0)) continue;
    scales[k] = Math.min(DUEL_SCALE_LIMIT, Math.max(-DUEL_SCALE_LIMIT, reliability[k]! / typical));
  }
  return scales;
}

/**
 * The crowd fit the reliability thread runs (fitCrowdBradleyTerry with CROWD_FIT_MAX_SWEEPS sweeps; the standard
 * errors, which the scales do not use, are left conditional) on `votes` as the app stores them (left response first),
 * mapped to scales by duelScales. What the simulator does where the app reads the cached fit.
 * Cost: O(CROWD_FIT_MAX_SWEEPS x (V + n + K)). Throws on invalid votes.
 */
export function fitDuelScales(armCount: number, annotatorCount: number, votes: readonly CrowdVote[]): Float64Array {
  const fit = fitCrowdBradleyTerry(armCount, annotatorCount, votes, { maxSweeps: CROWD_FIT_MAX_SWEEPS, standardErrors: "conditional" });
  const counts = new Int32Array(annotatorCount);
  for (const { annotator } of votes) counts[annotator] = counts[annotator]! + 1;
  return duelScales(fit.reliability, counts);
}
