/**
 * When may a study say "converged"? A LUCB-style confidence gap on the policy's own estimates
 * (Kalyanakrishnan et al. 2012, "PAC subset selection in stochastic multi-armed bandits", §3),
 * calibrated in the simulator (docs/decisions/0005-stopping-rule.md): the study stops when the
 * recommended arm beats every other arm by `confidence` standard errors of the difference.
 */
export interface StoppingRuleOptions {
  /** Never stop before this many votes: early estimates are over-confident. */
  minVotes: number;
  /** z-score the gap must clear for every rival arm. */
  confidence: number;
}

export const STOPPING_RULE_DEFAULTS: StoppingRuleOptions = { minVotes: 30, confidence: 3 };

export interface StoppingDecision {
  converged: boolean;
  /** min over rivals j of (u_rec - u_j) / sqrt(sigma_rec^2 + sigma_j^2): converged when >= confidence. */
  margin: number;
  /** The rival with the smallest margin (the arm that keeps the study open), or -1 with one arm. */
  closestRival: number;
  /** Rough votes still needed assuming every sigma shrinks like 1/sqrt(votes); null when converged or no estimate. */
  votesStillNeeded: number | null;
}

/**
 * Applies the stopping rule to a policy's current estimates.
 * margin = min_{j != r} (u_r - u_j) / sqrt(s_r^2 + s_j^2); converged = votes >= minVotes and margin >= confidence.
 * votesStillNeeded: with s(n') = s(n) sqrt(n / n'), the closest rival clears the bar when
 * n' = n (confidence / margin)^2, so needed = max(minVotes, n') - n (null when margin <= 0: no estimate).
 * Cost: O(n). Throws when the arrays differ in length, have fewer than two arms, or `recommended` is out of range.
 */
export function evaluateStoppingRule(
  utilities: Float64Array,
  uncertainties: Float64Array,
  recommended: number,
  voteCount: number,
  options: StoppingRuleOptions = STOPPING_RULE_DEFAULTS,
): StoppingDecision {
  const armCount = utilities.length;
  if (uncertainties.length !== armCount) throw new Error("evaluateStoppingRule requires one uncertainty per utility");
  if (armCount < 2) throw new Error("evaluateStoppingRule requires at least two arms");
  if (!Number.isInteger(recommended) || recommended < 0 || recommended >= armCount) {
    throw new Error(`evaluateStoppingRule requires recommended in [0, ${armCount})`);
  }
  const leaderUtility = utilities[recommended]!;
  const leaderVariance = uncertainties[recommended]! ** 2;
  let margin = Infinity;
  let closestRival = -1;
  for (let j = 0; j < armCount; j++) {
    if (j === recommended) continue;
    const z = (leaderUtility - utilities[j]!) / Math.sqrt(leaderVariance + uncertainties[j]! ** 2);
    if (z < margin) {
      margin = z;
      closestRival = j;
    }
  }
  const converged = voteCount >= options.minVotes && margin >= options.confidence;
  let votesStillNeeded: number | null = null;
  if (!converged && margin > 0 && voteCount > 0) {
    const target = Math.max(options.minVotes, voteCount * (options.confidence / margin) ** 2);
    votesStillNeeded = Math.ceil(target - voteCount);
  }
  return { converged, margin, closestRival, votesStillNeeded };
}
