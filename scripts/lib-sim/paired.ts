/** Statistics for comparing policies trial by trial (common random numbers make the trials of a cell paired). */

/** A difference is reported as significant above this many standard errors. */
export const SIGNIFICANT_Z = 2;

export interface PairedDifference {
  /** mean over trials of (ours_t - theirs_t) */
  mean: number;
  /** sample standard deviation of the differences / sqrt(trials); 0 when every difference is equal */
  stdErr: number;
  /** mean / stdErr; 0 when both are 0, +-Infinity when only stdErr is 0 */
  z: number;
  trials: number;
}

/**
 * The paired difference of two policies' per-trial figures (same trials, same order):
 * d_t = ours_t - theirs_t, mean d, SE = sd(d) / sqrt(T) with the (T - 1) sample deviation, z = mean / SE.
 * Throws when the lists differ in length or hold fewer than two trials.
 */
export function pairedDifference(ours: readonly number[], theirs: readonly number[]): PairedDifference {
  if (ours.length !== theirs.length) throw new Error(`pairedDifference needs the same trials: ${ours.length} vs ${theirs.length}`);
  const trials = ours.length;
  if (trials < 2) throw new Error("pairedDifference needs at least two trials");
  const differences = ours.map((value, t) => value - theirs[t]!);
  const mean = differences.reduce((sum, d) => sum + d, 0) / trials;
  const variance = differences.reduce((sum, d) => sum + (d - mean) ** 2, 0) / (trials - 1);
  const stdErr = Math.sqrt(variance / trials);
  const z = stdErr > 0 ? mean / stdErr : mean === 0 ? 0 : mean > 0 ? Infinity : -Infinity;
  return { mean, stdErr, z, trials };
}

/**
 * The mean of several independent paired differences (one per scenario) with its standard error
 * sqrt(sum SE_s^2) / S and z. Throws on an empty list.
 */
export function averageDifference(differences: readonly PairedDifference[]): Omit<PairedDifference, "trials"> {
  if (differences.length === 0) throw new Error("averageDifference needs at least one difference");
  const mean = differences.reduce((sum, d) => sum + d.mean, 0) / differences.length;
  const stdErr = Math.sqrt(differences.reduce((sum, d) => sum + d.stdErr ** 2, 0)) / differences.length;
  const z = stdErr > 0 ? mean / stdErr : mean === 0 ? 0 : mean > 0 ? Infinity : -Infinity;
  return { mean, stdErr, z };
}

/** Mean and standard error (sample deviation / sqrt(n)) of a list; stdErr is null below two values. */
export function meanAndStdErr(values: readonly number[]): { mean: number; stdErr: number | null } {
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  if (values.length < 2) return { mean, stdErr: null };
  const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  return { mean, stdErr: Math.sqrt(variance / values.length) };
}

/** z of the difference of two independent means: (a - b) / sqrt(se_a^2 + se_b^2); null without both errors or when both are 0. */
export function independentZ(a: number, aStdErr: number | null, b: number, bStdErr: number | null): number | null {
  if (aStdErr === null || bStdErr === null) return null;
  const spread = Math.sqrt(aStdErr ** 2 + bStdErr ** 2);
  return spread > 0 ? (a - b) / spread : null;
}

/** Share of values at or below `threshold`. */
export function shareAtMost(values: readonly number[], threshold: number): number {
  return values.filter((value) => value <= threshold).length / values.length;
}
