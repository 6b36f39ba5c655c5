import type { RandomSource } from "../../bandit/random";
import { standardNormal } from "../../bandit/random";

/** Misses by more than this many standard errors of the difference are not the noise of a few trials. */
export const SIGNIFICANT_Z = 2;

/**
 * z = (ours - reference) / sqrt(se_ours^2 + se_ref^2): how many standard errors of the difference of two
 * independent means our figure is above the reference's. null without both standard errors, or when both are 0.
 */
export function excessZ(ours: number, oursStdErr: number | null, reference: number, referenceStdErr: number | undefined): number | null {
  if (oursStdErr === null || referenceStdErr === undefined) return null;
  const spread = Math.sqrt(oursStdErr ** 2 + referenceStdErr ** 2);
  return spread > 0 ? (ours - reference) / spread : null;
}

/** One benchmark cell: every reference row's (mean, standard error) and our standard error there. */
export interface CellNoise {
  rows: { mean: number; stdErr: number }[];
  oursStdErr: number;
}

/**
 * Monte Carlo over the cells: how many would a policy whose expected regret is the best row's minus `advantage` meet
 * (its figure ~ N(max(0, best - advantage), se_ours^2) at or below the minimum of fresh draws N(mean_j, se_j^2) of the rows),
 * and how many of its misses would exceed SIGNIFICANT_Z. Reads the reference means as the truth, so it shows what
 * the noise of 10-trial cells compared with a minimum over rows does to "≤ the best row in every cell".
 */
export function attainableCells(cells: readonly CellNoise[], advantage: number, repetitions: number, random: RandomSource) {
  let metTotal = 0;
  let significantTotal = 0;
  for (let repetition = 0; repetition < repetitions; repetition++) {
    for (const { rows, oursStdErr } of cells) {
      const best = Math.min(...rows.map((row) => row.mean));
      const ours = Math.max(0, best - advantage) + oursStdErr * standardNormal(random);
      let observedBest = Infinity;
      let observedBestStdErr = 0;
      for (const row of rows) {
        const observed = row.mean + row.stdErr * standardNormal(random);
        if (observed < observedBest) {
          observedBest = observed;
          observedBestStdErr = row.stdErr;
        }
      }
      if (ours <= observedBest) metTotal += 1;
      else if ((excessZ(ours, oursStdErr, observedBest, observedBestStdErr) ?? 0) > SIGNIFICANT_Z) significantTotal += 1;
    }
  }
  return { met: metTotal / repetitions, significantMisses: significantTotal / repetitions };
}

/** A figure to compare against: a reference row as published, or our re-run of its algorithm. */
export interface ComparedRow {
  value: number;
  stdErr: number | null;
  label: string;
}

/**
 * The lowest row of a cell after replacing each reference row by `rerunOf(algo)` when that returns a figure
 * (our re-run of a single-initialisation algorithm with one initialisation per trial); rows without a re-run count
 * as published. undefined for a cell without rows.
 */
export function bestRowWithReruns(
  rows: readonly { algo: string; value: number; stdErr: number }[],
  rerunOf: (algo: string) => ComparedRow | undefined,
): ComparedRow | undefined {
  let best: ComparedRow | undefined;
  for (const row of rows) {
    const candidate = rerunOf(row.algo) ?? { value: row.value, stdErr: row.stdErr, label: row.algo };
    if (!best || candidate.value < best.value) best = candidate;
  }
  return best;
}
