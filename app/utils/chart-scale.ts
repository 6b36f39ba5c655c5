// Pure helpers of the dashboard's convergence chart (app/components/charts.tsx): axis ticks and which points may show a
// P(best). No I/O.

import { MIN_COMPARISONS_TO_RANK } from "./leaderboard-ranking";

/**
 * A "nice" step near `value`: 1, 2, 5 or 10 times a power of ten, rounded to the nearest (`round`) or the next above.
 * Heckbert, "Nice numbers for graph labels", Graphics Gems (1990): f = value / 10^floor(log10 value), then
 * round: f < 1.5 → 1, < 3 → 2, < 7 → 5, else 10; ceiling: f <= 1 → 1, <= 2 → 2, <= 5 → 5, else 10. O(1).
 */
export function niceNumber(value: number, round: boolean): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const exponent = Math.floor(Math.log10(value));
  const power = 10 ** exponent;
  const fraction = value / power;
  let nice: number;
  if (round) nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
  else nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  // Keep 10^exponent exact for negative exponents (0.1 * 2 is not 0.2 in floating point).
  return exponent < 0 ? nice / 10 ** -exponent : nice * power;
}

/**
 * Heckbert's loose labelling of [min, max] with about `count` ticks: step d = nice(nice(max - min) / (count - 1)),
 * ticks from floor(min / d) * d to ceil(max / d) * d every d, so the axis ends on a labelled tick; with `integer`
 * the step is at least 1 (vote counts). A zero-width range is widened to [min, min + 1]. O(count).
 */
export function niceTicks(min: number, max: number, count: number, { integer = false }: { integer?: boolean } = {}): number[] {
  const high = max > min ? max : min + 1;
  const range = niceNumber(high - min, false);
  let step = niceNumber(range / Math.max(1, count - 1), true);
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.floor(min / step) * step;
  const last = Math.ceil(high / step) * step;
  const ticks: number[] = [];
  // Counted in steps, not accumulated, so 0.1 + 0.2 errors do not creep in.
  for (let k = 0; first + k * step <= last + step / 2; k++) ticks.push(Number((first + k * step).toPrecision(12)));
  return ticks;
}

export interface ConvergenceInput {
  voteCount: number;
  pBest: number | null;
  /** Comparisons of the recommended prompt at that snapshot; null in rows from before it was recorded. */
  recommendedComparisons: number | null;
}

/**
 * The P(best) line as segments of consecutive measured points: a point is drawn only when its recommended prompt had
 * at least `minComparisons` comparisons (the leaderboard's minimum to rank: MIN_COMPARISONS_TO_RANK, rankLeaderboard),
 * so the chart never shows a P(best) of 1.00 after one vote; an unmeasured point breaks the line. `firstMeasuredVotes`
 * is where the line starts (null when no point qualifies). `points` in vote order. O(points).
 */
export function convergenceSegments<T extends ConvergenceInput>(
  points: readonly T[],
  minComparisons: number = MIN_COMPARISONS_TO_RANK,
): { segments: (T & { pBest: number })[][]; firstMeasuredVotes: number | null } {
  const segments: (T & { pBest: number })[][] = [];
  let current: (T & { pBest: number })[] = [];
  for (const point of points) {
    if (point.pBest !== null && point.recommendedComparisons !== null && point.recommendedComparisons >= minComparisons) {
      current.push(point as T & { pBest: number });
    } else if (current.length > 0) {
      segments.push(current);
      current = [];
    }
  }
  if (current.length > 0) segments.push(current);
  return { segments, firstMeasuredVotes: segments[0]?.[0]?.voteCount ?? null };
}
