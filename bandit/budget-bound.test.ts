import { describe, expect, it } from "vitest";
import { bestOfRandomSubsetRegret } from "./budget-bound";
import { mulberry32, randomInt, standardNormal } from "./random";

describe("bestOfRandomSubsetRegret", () => {
  it("matches the hand count on four prompts", () => {
    // u = 3, 2, 1, 0: mean 1.5, regrets 0, 2/3, 4/3, 2. Of the 6 pairs, 3 hold the best (regret 0), 2 have the second
    // as their best (2/3) and 1 the third (4/3): E = (2 · 2/3 + 4/3) / 6 = 4/9.
    expect(bestOfRandomSubsetRegret(Float64Array.of(3, 2, 1, 0), 2)).toBeCloseTo(4 / 9, 12);
  });

  it("is 1 for one prompt (an average prompt) and 0 when every prompt is known", () => {
    const utility = Float64Array.of(0.2, 0.9, 0.4, 0.4, 0.7);
    expect(bestOfRandomSubsetRegret(utility, 1)).toBeCloseTo(1, 12);
    expect(bestOfRandomSubsetRegret(utility, 5)).toBe(0);
  });

  it("agrees with drawing the subsets (seeded, 20,000 draws)", () => {
    const random = mulberry32(7);
    const utility = Float64Array.from({ length: 60 }, () => standardNormal(random));
    const max = Math.max(...utility);
    const spread = max - utility.reduce((sum, value) => sum + value, 0) / utility.length;
    const k = 9;
    let total = 0;
    const draws = 20_000;
    for (let draw = 0; draw < draws; draw++) {
      const order = Array.from({ length: utility.length }, (_, i) => i);
      let best = -Infinity;
      for (let i = 0; i < k; i++) {
        const j = i + randomInt(random, order.length - i);
        [order[i], order[j]] = [order[j]!, order[i]!];
        best = Math.max(best, utility[order[i]!]!);
      }
      total += (max - best) / spread;
    }
    // The per-draw regret is below 3 here, so 20,000 draws put the mean within ±0.03 at far more than 4 SDs.
    expect(total / draws).toBeCloseTo(bestOfRandomSubsetRegret(utility, k), 1);
  });

  it("refuses k outside [1, n] and equal utilities", () => {
    expect(() => bestOfRandomSubsetRegret(Float64Array.of(1, 2), 3)).toThrow(/k must be/);
    expect(() => bestOfRandomSubsetRegret(Float64Array.of(1, 2), 0)).toThrow(/k must be/);
    expect(() => bestOfRandomSubsetRegret(Float64Array.of(1, 1), 1)).toThrow(/all equal/);
  });
});
