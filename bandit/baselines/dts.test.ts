import { describe, expect, it } from "vitest";
import type { Duel } from "../policy";
import { mulberry32 } from "../random";
import { createDtsPolicy } from "./dts";

// Hand-computed steps of Double Thompson Sampling (Wu & Liu 2016, NeurIPS, Algorithm 1, alpha = 0.51). The Beta
// draws are replaced by the Beta means (a / (a + b)), so every quantity of the step can be worked out on paper.
const betaMean = (_random: () => number, a: number, b: number) => a / (a + b);
const features = (n: number) => Array.from({ length: n }, (_, i) => Float64Array.from({ length: 2 }, (_, k) => (k === i % 2 ? 1 : 0)));

function repeat(a: number, b: number, outcome: 1 | 0, times: number): Duel[] {
  return Array.from({ length: times }, () => ({ a, b, outcome }));
}

describe("dts (classical Double Thompson Sampling)", () => {
  it("matches a hand-computed step: upper Copeland candidates, sampled Copeland winner, uncertain second arm", () => {
    // w01 = 2, w10 = 1, w12 = 6, w02 = 1; t = 11, alpha ln t = 0.51 * ln 11 = 1.222927.
    // u10 = 1/3 + sqrt(1.222927 / 3) = 0.9718 > 1/2; u21 = 0 + sqrt(1.222927 / 6) = 0.4515 < 1/2;
    // upper Copeland scores: arm 0 -> 2, arm 1 -> 2, arm 2 -> 1, so the candidates are {0, 1}.
    // theta01 = Beta(3, 2) -> 0.6, theta02 = Beta(2, 1) -> 0.667, theta12 = Beta(7, 1) -> 0.875:
    // sampled Copeland 0 -> 2, 1 -> 1: a1 = 0.
    // Second arm: theta2_1 = Beta(w10 + 1, w01 + 1) = Beta(2, 3) -> 0.4, theta2_2 = Beta(1, 2) -> 0.333;
    // l10 = 1/3 - 0.6385 <= 1/2 and l20 = 0 - 1.1059 <= 1/2, so a2 = 1.
    const policy = createDtsPolicy({ features: features(3), random: mulberry32(1) }, { sampleBeta: betaMean });
    policy.fit([...repeat(0, 1, 1, 2), ...repeat(0, 1, 0, 1), ...repeat(1, 2, 1, 6), ...repeat(0, 2, 1, 1)]);
    expect(policy.selectPair({ random: mulberry32(2) })).toEqual([0, 1]);
  });

  it("leaves out of the second draw an arm that confidently beats the first (l_{i,a1} > 1/2)", () => {
    // A Copeland cycle: 0 beats 1 and 2 (8-0 each), 3 beats 0 (8-0), 1 and 2 beat 3 (8-0 each), 1-2 split 1-1.
    // t = 43, alpha ln t = 1.918212; an 8-0 pair has width sqrt(1.918212 / 8) = 0.48967, so u = 0.4897 < 1/2 for the
    // loser. Upper Copeland: 0, 1, 2 -> 2, arm 3 -> 1. Sampled Copeland (means): 0 beats 1 and 2 (0.9), 1 and 2 tie
    // (Beta(2, 2) -> 0.5, no point), 1 and 2 beat 3: 0 -> 2, 1 -> 1, 2 -> 1, so a1 = 0.
    // Second arm: theta2_3 = Beta(9, 1) -> 0.9 is the largest, but l30 = 1 - 0.48967 = 0.5103 > 1/2 excludes arm 3;
    // arms 1 and 2 tie at Beta(1, 9) -> 0.1 and the lower index wins: a2 = 1.
    const history = [
      ...repeat(0, 1, 1, 8),
      ...repeat(0, 2, 1, 8),
      ...repeat(3, 0, 1, 8),
      ...repeat(1, 3, 1, 8),
      ...repeat(2, 3, 1, 8),
      { a: 1, b: 2, outcome: 1 as const },
      { a: 1, b: 2, outcome: 0 as const },
    ];
    const policy = createDtsPolicy({ features: features(4), random: mulberry32(1) }, { sampleBeta: betaMean });
    policy.fit(history);
    expect(policy.selectPair({ random: mulberry32(2) })).toEqual([0, 1]);
    // The empirical Copeland winner: arm 0 beats two arms, every other arm one.
    expect(policy.recommend()).toBe(0);
  });

  it("with real Beta draws, concentrates on the Condorcet winner of a consistent annotator", () => {
    const n = 6;
    const policy = createDtsPolicy({ features: features(n), random: mulberry32(3) });
    const random = mulberry32(4);
    const history: Duel[] = [];
    for (let t = 0; t < 200; t++) {
      const [a, b] = policy.selectPair({ random });
      expect(a).not.toBe(b);
      // Bradley–Terry with utility = index: arm 5 is best, and beats arm 4 with probability sigmoid(1) = 0.73.
      history.push({ a, b, outcome: random() < 1 / (1 + Math.exp(b - a)) ? 1 : 0 });
      policy.fit(history);
    }
    expect(policy.recommend()).toBe(5);
    const involvingBest = history.slice(100).filter(({ a, b }) => a === 5 || b === 5).length;
    expect(involvingBest).toBeGreaterThan(60);
  });

  it("names itself on a bad alpha", () => {
    expect(() => createDtsPolicy({ features: features(3), random: mulberry32(1) }, { alpha: 0.5 })).toThrow(/alpha > 1\/2/);
  });
});
