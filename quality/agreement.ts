import { quantileSorted } from "simple-statistics";
import type { RandomSource } from "../bandit/random";
import { randomInt } from "../bandit/random";

/**
 * Inter-annotator agreement on nominal labels (pure: no I/O, injected random source). An item is
 * whatever several annotators judged alike; a unit's label counts give, per category, how many
 * annotators chose it. In promptduel an item is a (query, prompt pair) and the label is the outcome
 * for the pair itself (the lower-id prompt won, the higher-id prompt won, or a draw), so it does not
 * depend on which side each prompt was shown on.
 */

/** Per unit: how many raters put it in each category (all units the same length, one entry per category). */
export type CategoryCounts = readonly number[];

/** A square table: cell [i][j] counts the items rater 1 put in category i and rater 2 in category j. */
export type ContingencyTable = readonly (readonly number[])[];

function checkCounts(units: readonly CategoryCounts[], name: string): number {
  const categories = units[0]?.length ?? 0;
  for (const unit of units) {
    if (unit.length !== categories) throw new Error(`${name} requires every unit to have the same number of categories`);
    for (const count of unit) if (!Number.isInteger(count) || count < 0) throw new Error(`${name} requires non-negative integer counts`);
  }
  return categories;
}

function checkWeights(weights: ArrayLike<number> | undefined, length: number, name: string) {
  if (weights && weights.length !== length) throw new Error(`${name} requires one weight per unit`);
}

/**
 * Krippendorff's alpha for nominal data, from the coincidence matrix (Krippendorff 2011, "Computing
 * Krippendorff's Alpha-Reliability", section C). Units with fewer than two values are not pairable
 * and ignored. With n_uc the count of category c in unit u, m_u = sum_c n_uc, n_c = sum_u n_uc and
 * n = sum_c n_c over pairable units:
 *   o_cc  = sum_u n_uc (n_uc - 1) / (m_u - 1)          (the coincidence matrix's diagonal)
 *   alpha = 1 - (n - 1) (n - sum_c o_cc) / (n^2 - sum_c n_c^2)
 * `weights` (optional, one per unit) multiplies each unit's contribution: a bootstrap resample that
 * draws a unit twice gives it weight 2. Returns null when alpha is undefined (fewer than two pairable
 * values, or every value in one category: no variation to agree on).
 * Cost: O(units * categories). Throws on ragged or negative counts, or a weight per unit missing.
 */
export function krippendorffAlphaNominal(units: readonly CategoryCounts[], weights?: ArrayLike<number>): number | null {
  const categories = checkCounts(units, "krippendorffAlphaNominal");
  checkWeights(weights, units.length, "krippendorffAlphaNominal");
  const categoryTotals = new Float64Array(categories);
  let diagonal = 0;
  for (let u = 0; u < units.length; u++) {
    const unit = units[u]!;
    const weight = weights ? weights[u]! : 1;
    let values = 0;
    for (const count of unit) values += count;
    if (values < 2 || weight === 0) continue;
    for (let c = 0; c < categories; c++) {
      const count = unit[c]!;
      categoryTotals[c] = categoryTotals[c]! + weight * count;
      diagonal += (weight * count * (count - 1)) / (values - 1);
    }
  }
  let total = 0;
  let sumOfSquares = 0;
  for (const categoryTotal of categoryTotals) {
    total += categoryTotal;
    sumOfSquares += categoryTotal * categoryTotal;
  }
  const expectedDisagreement = total * total - sumOfSquares;
  if (total < 2 || expectedDisagreement <= 0) return null;
  return 1 - ((total - 1) * (total - diagonal)) / expectedDisagreement;
}

/**
 * Fleiss' kappa for a fixed number of raters per item (Fleiss 1971, "Measuring nominal scale
 * agreement among many raters", Psychol. Bull. 76:378-382, eqs. 2-9). With N units, m raters each,
 * n_ij raters putting unit i in category j:
 *   P_i = (sum_j n_ij^2 - m) / (m (m - 1)),  P_bar = mean_i P_i,  p_j = sum_i n_ij / (N m)
 *   kappa = (P_bar - P_e) / (1 - P_e),       P_e = sum_j p_j^2
 * `weights` as in krippendorffAlphaNominal. Returns null when kappa is undefined (no units, or every
 * rating in one category, P_e = 1). Cost: O(units * categories).
 * Throws when units have different numbers of raters, fewer than two, or counts are invalid.
 */
export function fleissKappa(units: readonly CategoryCounts[], weights?: ArrayLike<number>): number | null {
  const categories = checkCounts(units, "fleissKappa");
  checkWeights(weights, units.length, "fleissKappa");
  if (units.length === 0) return null;
  let raters = -1;
  for (const unit of units) {
    let sum = 0;
    for (const count of unit) sum += count;
    if (raters === -1) raters = sum;
    if (sum !== raters) throw new Error("fleissKappa requires the same number of raters for every unit");
  }
  if (raters < 2) throw new Error("fleissKappa requires at least two raters per unit");
  const categoryShare = new Float64Array(categories);
  let agreementSum = 0;
  let weightSum = 0;
  for (let u = 0; u < units.length; u++) {
    const unit = units[u]!;
    const weight = weights ? weights[u]! : 1;
    let squares = 0;
    for (let c = 0; c < categories; c++) {
      squares += unit[c]! * unit[c]!;
      categoryShare[c] = categoryShare[c]! + weight * unit[c]!;
    }
    agreementSum += (weight * (squares - raters)) / (raters * (raters - 1));
    weightSum += weight;
  }
  if (weightSum === 0) return null;
  let chanceAgreement = 0;
  for (const share of categoryShare) chanceAgreement += (share / (weightSum * raters)) ** 2;
  if (chanceAgreement >= 1) return null;
  return (agreementSum / weightSum - chanceAgreement) / (1 - chanceAgreement);
}

/**
 * Cohen's kappa for two raters (Cohen 1960, "A coefficient of agreement for nominal scales", Educ.
 * Psychol. Meas. 20:37-46), from their contingency table with n items:
 *   p_o = sum_i t_ii / n,  p_e = sum_i (row_i / n)(col_i / n),  kappa = (p_o - p_e) / (1 - p_e)
 * Returns null when kappa is undefined (no items, or both raters always used one and the same
 * category, p_e = 1). Cost: O(categories^2). Throws unless the table is square with non-negative counts.
 */
export function cohenKappa(table: ContingencyTable): number | null {
  const size = table.length;
  const rows = new Float64Array(size);
  const columns = new Float64Array(size);
  let total = 0;
  let agreed = 0;
  for (let i = 0; i < size; i++) {
    const row = table[i]!;
    if (row.length !== size) throw new Error("cohenKappa requires a square table");
    for (let j = 0; j < size; j++) {
      const count = row[j]!;
      if (!(count >= 0)) throw new Error("cohenKappa requires non-negative counts");
      rows[i] = rows[i]! + count;
      columns[j] = columns[j]! + count;
      total += count;
      if (i === j) agreed += count;
    }
  }
  if (total === 0) return null;
  let chance = 0;
  for (let i = 0; i < size; i++) chance += (rows[i]! / total) * (columns[i]! / total);
  if (chance >= 1) return null;
  return (agreed / total - chance) / (1 - chance);
}

export interface AgreementEstimate {
  /** The statistic on all items; null when it is undefined there. */
  value: number | null;
  /** 95% percentile-bootstrap interval over items; null when the statistic is undefined or too few resamples define it. */
  lower: number | null;
  upper: number | null;
  /** Items the statistic was computed on. */
  items: number;
}

export interface BootstrapOptions {
  random: RandomSource;
  /** Resamples (default 1000). */
  samples?: number;
  /** Two-sided coverage (default 0.95). */
  level?: number;
}

/**
 * Nonparametric percentile bootstrap over items (Efron & Tibshirani 1993, "An Introduction to the
 * Bootstrap", ch. 13): draw the n items with replacement `samples` times, as a multiplicity per item,
 * recompute the statistic with those multiplicities as weights, and take the (1 - level)/2 and
 * (1 + level)/2 quantiles of the resampled values. Items, not votes, are resampled because an
 * item's labels are not independent of one another. Resamples where the statistic is undefined are
 * left out; fewer than half defined gives no interval, and so do fewer than MIN_BOOTSTRAP_ITEMS items: a
 * resample of one item is that item again, so one disagreement showed kappa "0.00 (0.00–0.00)", an
 * interval of no width where nothing is known.
 * Cost: O(samples * (n + cost of the statistic)). Throws on samples < 1 or level outside (0, 1).
 */
/** The fewest items a percentile-bootstrap interval is given for (below it the resamples barely differ). */
export const MIN_BOOTSTRAP_ITEMS = 5;

export function bootstrapAgreement(
  itemCount: number,
  statistic: (weights: Float64Array | undefined) => number | null,
  options: BootstrapOptions,
): AgreementEstimate {
  const samples = options.samples ?? 1000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(samples) || samples < 1) throw new Error("bootstrapAgreement requires samples >= 1");
  if (!(level > 0 && level < 1)) throw new Error("bootstrapAgreement requires 0 < level < 1");
  const value = statistic(undefined);
  if (value === null || itemCount < MIN_BOOTSTRAP_ITEMS) return { value, lower: null, upper: null, items: itemCount };
  const weights = new Float64Array(itemCount);
  const draws: number[] = [];
  for (let s = 0; s < samples; s++) {
    weights.fill(0);
    for (let i = 0; i < itemCount; i++) {
      const pick = randomInt(options.random, itemCount);
      weights[pick] = weights[pick]! + 1;
    }
    const resampled = statistic(weights);
    if (resampled !== null) draws.push(resampled);
  }
  if (draws.length < samples / 2) return { value, lower: null, upper: null, items: itemCount };
  draws.sort((x, y) => x - y);
  return { value, lower: quantileSorted(draws, (1 - level) / 2), upper: quantileSorted(draws, (1 + level) / 2), items: itemCount };
}

/** Krippendorff's alpha (nominal) over units with its bootstrap interval over units. Cost: O(samples * units * categories). */
export function krippendorffAlphaEstimate(units: readonly CategoryCounts[], options: BootstrapOptions): AgreementEstimate {
  const pairable = units.filter((unit) => unit.reduce((sum, count) => sum + count, 0) >= 2);
  return bootstrapAgreement(pairable.length, (weights) => krippendorffAlphaNominal(pairable, weights), options);
}

/** Fleiss' kappa over units (equal raters per unit) with its bootstrap interval over units. Cost: O(samples * units * categories). */
export function fleissKappaEstimate(units: readonly CategoryCounts[], options: BootstrapOptions): AgreementEstimate {
  return bootstrapAgreement(units.length, (weights) => fleissKappa(units, weights), options);
}

/**
 * Cohen's kappa from a contingency table with its bootstrap interval over the table's items (each
 * count is that many items). Cost: O(samples * (n + categories^2)).
 */
export function cohenKappaEstimate(table: ContingencyTable, options: BootstrapOptions): AgreementEstimate {
  const cells: [number, number][] = [];
  table.forEach((row, i) =>
    row.forEach((count, j) => {
      for (let k = 0; k < count; k++) cells.push([i, j]);
    }),
  );
  const resampled = table.map((row) => row.map(() => 0));
  return bootstrapAgreement(
    cells.length,
    (weights) => {
      if (!weights) return cohenKappa(table);
      for (const row of resampled) row.fill(0);
      cells.forEach(([i, j], index) => {
        resampled[i]![j] = resampled[i]![j]! + weights[index]!;
      });
      return cohenKappa(resampled);
    },
    options,
  );
}
