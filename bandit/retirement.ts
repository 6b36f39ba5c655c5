/**
 * Retiring what the votes rule out (issue 17 §2), on the leaderboard's raw-vote statistics (Bradley–Terry scores
 * with 95% bootstrap intervals, bandit/leaderboard.ts). This is the elimination step of successive-elimination
 * best-arm identification (Even-Dar, Mannor & Mansour 2006, §3: drop an arm once its upper confidence bound falls
 * below the best arm's lower bound) and of PDO's pruning of weak prompts (Wu et al. 2025, arXiv 2510.13907).
 */
export interface RetirementCandidate {
  arm: number;
  /** Bradley–Terry score and its 95% interval. */
  score: number;
  lower: number;
  upper: number;
  /** Votes the arm took part in (wins + losses + ties). */
  comparisons: number;
  /** Still in selection (not disabled, not retired already). */
  inSelection: boolean;
  /** Brought back by an owner: never retired again by the rule. */
  kept: boolean;
}

export interface RetirementOptions {
  /** No arm is retired, nor counts as the leader, before this many comparisons. */
  minComparisons: number;
  /** Retire only when upper_i < lower_leader - margin (score units, ln strength). */
  margin: number;
  /** At most this many arms in selection; null = no cap. */
  poolCap: number | null;
}

export interface Retirement {
  arm: number;
  rule: "ruled-out" | "pool-cap";
  comparisons: number;
  score: number;
  upper: number;
  leaderArm: number;
  leaderLower: number;
}

/**
 * The arms to retire now. Leader = the in-selection arm with the highest score among those with >= minComparisons.
 * ruled-out: every other in-selection, not kept arm i with comparisons_i >= minComparisons and
 *   upper_i < lower_leader - margin.
 * pool-cap: then, while more than poolCap arms stay in selection, the remaining measured (>= minComparisons), not
 *   kept, non-leader arm with the lowest upper bound (ties: lower score, then higher index). Arms with fewer
 *   comparisons are never retired, so a freshly grown prompt gets its chance; the pool may then stay above the cap
 *   until they are measured.
 * Returns nothing without a measured leader. Cost: O(n log n). Throws when minComparisons < 1 or margin < 0.
 */
export function armsToRetire(candidates: readonly RetirementCandidate[], options: RetirementOptions): Retirement[] {
  if (!(options.minComparisons >= 1)) throw new Error("armsToRetire requires minComparisons >= 1");
  if (!(options.margin >= 0)) throw new Error("armsToRetire requires margin >= 0");
  const measured = (c: RetirementCandidate) => c.inSelection && c.comparisons >= options.minComparisons;
  let leader: RetirementCandidate | null = null;
  for (const c of candidates) if (measured(c) && (leader === null || c.score > leader.score)) leader = c;
  if (leader === null) return [];
  const retire = (c: RetirementCandidate, rule: Retirement["rule"]): Retirement => ({
    arm: c.arm,
    rule,
    comparisons: c.comparisons,
    score: c.score,
    upper: c.upper,
    leaderArm: leader.arm,
    leaderLower: leader.lower,
  });
  const retired: Retirement[] = [];
  const remaining: RetirementCandidate[] = [];
  for (const c of candidates) {
    if (!c.inSelection) continue;
    if (c !== leader && !c.kept && measured(c) && c.upper < leader.lower - options.margin) retired.push(retire(c, "ruled-out"));
    else remaining.push(c);
  }
  if (options.poolCap !== null && remaining.length > options.poolCap) {
    const weakest = remaining
      .filter((c) => c !== leader && !c.kept && measured(c))
      .sort((x, y) => x.upper - y.upper || x.score - y.score || y.arm - x.arm);
    const excess = Math.min(remaining.length - options.poolCap, weakest.length);
    for (let k = 0; k < excess; k++) retired.push(retire(weakest[k]!, "pool-cap"));
  }
  return retired;
}
