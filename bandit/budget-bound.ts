// How low a vote budget lets regret go, whatever the policy: the regret of recommending the best of k prompts whose
// exact utilities are known. A budget of b duels shows at most 2b prompts, each through one noisy binary outcome, and
// noise-free comparisons certify the best of at most b + 1 prompts (a knockout); so a policy that picks its prompts
// without knowing their utilities cannot expect to beat bestOfRandomSubsetRegret(u, 2b), and one that must certify its
// pick by comparisons cannot beat bestOfRandomSubsetRegret(u, b + 1). Used by `npm run bench:engine-bounds` to judge
// issue 16's 50-vote target.

/**
 * Expected normalised simple regret r = (max u − u_pick) / (max u − mean u) of the best of k prompts drawn uniformly
 * without replacement from the n of `utility`.
 *
 * With the regrets sorted ascending r_(1) ≤ … ≤ r_(n), the sample's best is position j exactly when the sample holds j
 * and none of the j − 1 better ones: P_j = C(n − j, k − 1) / C(n, k), so E[r] = Σ_j r_(j) P_j. P_1 = k / n and
 * P_{j+1} / P_j = (n − j − k + 1) / (n − j). Ties need no care: the sum runs over positions. Source: the distribution of
 * the minimum rank of a simple random sample (e.g. David & Nagaraja, Order Statistics, 3rd ed., §2.5).
 * Cost: O(n log n). Throws unless 1 ≤ k ≤ n and the utilities are not all equal.
 */
export function bestOfRandomSubsetRegret(utility: Float64Array, k: number): number {
  const n = utility.length;
  if (!Number.isInteger(k) || k < 1 || k > n) throw new Error(`bestOfRandomSubsetRegret: k must be an integer in [1, ${n}], got ${k}`);
  let max = -Infinity;
  let sum = 0;
  for (const value of utility) {
    max = Math.max(max, value);
    sum += value;
  }
  const spread = max - sum / n;
  if (!(spread > 0)) throw new Error("bestOfRandomSubsetRegret: the utilities are all equal");
  const regrets = Float64Array.from(utility, (value) => (max - value) / spread).sort();
  let probability = k / n;
  let expected = 0;
  for (let j = 1; j <= n - k + 1; j++) {
    expected += regrets[j - 1]! * probability;
    probability *= (n - j - k + 1) / (n - j);
  }
  return expected;
}
