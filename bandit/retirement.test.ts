import { describe, expect, it } from "vitest";
import { armsToRetire, type RetirementCandidate } from "./retirement";

const arm = (arm: number, score: number, halfWidth: number, comparisons: number, extra: Partial<RetirementCandidate> = {}): RetirementCandidate => ({
  arm,
  score,
  lower: score - halfWidth,
  upper: score + halfWidth,
  comparisons,
  inSelection: true,
  kept: false,
  ...extra,
});

describe("armsToRetire", () => {
  const options = { minComparisons: 10, margin: 0.2, poolCap: null };

  it("retires a measured arm whose upper bound is below the leader's lower bound by more than the margin, and only that", () => {
    const candidates = [
      arm(0, 2, 0.5, 30), // leader: lower 1.5
      arm(1, 0.5, 0.5, 20), // upper 1.0 < 1.5 - 0.2: retired
      arm(2, 0.9, 0.45, 20), // upper 1.35 > 1.3: stays (inside the margin)
      arm(3, -3, 0.5, 5), // too few comparisons: stays
      arm(4, -3, 0.5, 40, { kept: true }), // brought back by the owner: stays
      arm(5, -3, 0.5, 40, { inSelection: false }), // already out: not retired again
    ];
    expect(armsToRetire(candidates, options)).toEqual([
      { arm: 1, rule: "ruled-out", comparisons: 20, score: 0.5, upper: 1, leaderArm: 0, leaderLower: 1.5 },
    ]);
  });

  it("retires nothing without a measured leader, and never the leader itself", () => {
    expect(armsToRetire([arm(0, 2, 0.1, 9), arm(1, -2, 0.1, 9)], options)).toEqual([]);
    expect(armsToRetire([arm(0, 2, 0.1, 10)], options)).toEqual([]);
  });

  it("keeps the pool within its cap by retiring the measured arms with the lowest upper bounds, never unmeasured ones", () => {
    const candidates = [arm(0, 2, 2, 30), arm(1, 1, 2, 30), arm(2, 0.5, 2, 30), arm(3, 0, 2, 30), arm(4, -1, 2, 3)];
    const retired = armsToRetire(candidates, { ...options, poolCap: 3 });
    expect(retired.map(({ arm, rule }) => [arm, rule])).toEqual([
      [3, "pool-cap"],
      [2, "pool-cap"],
    ]);
    expect(armsToRetire(candidates, { ...options, poolCap: 1 }).map(({ arm }) => arm)).toEqual([3, 2, 1]);
  });

  it("refuses a minimum below one comparison or a negative margin", () => {
    expect(() => armsToRetire([], { ...options, minComparisons: 0 })).toThrow(/minComparisons/);
    expect(() => armsToRetire([], { ...options, margin: -1 })).toThrow(/margin/);
  });
});
