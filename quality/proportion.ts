/**
 * Intervals for a single proportion (pure: no I/O). Used for position bias: the share of decisive
 * votes that went to the response shown on the left, which is 0.5 for an annotator without bias.
 */

export interface ProportionInterval {
  successes: number;
  trials: number;
  /** successes / trials, or null without trials. */
  rate: number | null;
  /** The interval's bounds; [0, 1] without trials (nothing is known). */
  lower: number;
  upper: number;
}

/** The standard normal quantile for a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

/**
 * Wilson score interval for a binomial proportion (Wilson 1927; method 3 of Newcombe 1998, "Two-sided
 * confidence intervals for the single proportion", Stat. Med. 17:857-872). Unlike the Wald interval
 * it stays inside [0, 1] and keeps close to its nominal coverage at small n and extreme rates.
 *   centre = (p + z^2 / 2n) / (1 + z^2 / n)
 *   half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / 4n^2),   p = successes / n
 * Cost: O(1). Throws when the counts are not integers with 0 <= successes <= trials, or z <= 0.
 */
export function wilsonInterval(successes: number, trials: number, z = Z_95): ProportionInterval {
  if (!Number.isInteger(successes) || !Number.isInteger(trials) || successes < 0 || successes > trials) {
    throw new Error("wilsonInterval requires integer counts with 0 <= successes <= trials");
  }
  if (!(z > 0)) throw new Error("wilsonInterval requires z > 0");
  if (trials === 0) return { successes, trials, rate: null, lower: 0, upper: 1 };
  const p = successes / trials;
  const z2 = z * z;
  const denominator = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denominator;
  const half = (z / denominator) * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials));
  // At p = 0 or 1 the bound equals the rate exactly; rounding must not leave it a hair outside.
  return {
    successes,
    trials,
    rate: p,
    lower: successes === 0 ? 0 : Math.max(0, centre - half),
    upper: successes === trials ? 1 : Math.min(1, centre + half),
  };
}

/**
 * Whether a left-side rate shows a strong position bias: its interval lies entirely outside
 * [0.5 - margin, 0.5 + margin], so even the interval's nearest end leans to one side by more than the
 * margin. With margin 0 this is "the interval excludes 0.5". Cost: O(1). Throws when margin is outside [0, 0.5).
 */
export function isStrongSideBias(interval: Pick<ProportionInterval, "lower" | "upper">, margin: number): boolean {
  if (!(margin >= 0 && margin < 0.5)) throw new Error("isStrongSideBias requires 0 <= margin < 0.5");
  return interval.lower > 0.5 + margin || interval.upper < 0.5 - margin;
}
